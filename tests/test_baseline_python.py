"""Recording with another interpreter that has dagster but not what the harness's workers need.

The workers measure what each cell runs with coverage.py; an interpreter the user names with
`--python` need not hold it. The harness brings it: a private directory of its worker
requirements, installed for that interpreter once in the per-user cache and put on the workers'
path only; the user's environment is neither required to hold it nor changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def without_coverage(tmp_path) -> str:
    """A real interpreter with this venv's dagster and everything else but coverage: a fresh venv
    whose site-packages links each of ours, coverage left out."""
    env_dir = tmp_path / "py"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if not entry.name.lower().startswith("coverage") and not (site / entry.name).exists():
            (site / entry.name).symlink_to(entry)
    probe = subprocess.run([str(python), "-c", "import dagster, importlib.util; "
                            "print(importlib.util.find_spec('coverage') is None)"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert probe.stdout.strip() == "True", probe.stderr
    return str(python)


def test_a_foreign_interpreter_without_coverage_records_with_the_harness_overlay(tmp_path, without_coverage, monkeypatch):
    from compat import envs
    from compat.behaviour import replay

    cache = tmp_path / "cache"
    monkeypatch.setenv("COMPAT_CACHE_DIR", str(cache))
    envs._OVERLAYS.clear()
    reach: dict = {}
    paths = replay.record(without_coverage, str(tmp_path / "out"), subclasses=["spy"], scenarios=["storage_wipe"],
                          storages=["memory"], reach=reach)
    assert [p.name for p in paths] == ["spy__storage_wipe__memory.json"]
    assert reach["cells"]["spy__storage_wipe__memory"], "the worker measured what the cell ran"
    (overlay,) = envs.worker_overlay(without_coverage)
    assert Path(overlay, "coverage").is_dir() and Path(overlay).is_relative_to(cache / "overlays")
    # the user's interpreter is as it was: still no coverage of its own
    probe = subprocess.run([without_coverage, "-c", "import importlib.util; print(importlib.util.find_spec('coverage'))"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert probe.stdout.strip() == "None"
    # built once per interpreter: the second recording reuses it
    built = Path(overlay).parent.joinpath(".complete").stat().st_mtime_ns
    envs._OVERLAYS.clear()
    replay.record(without_coverage, str(tmp_path / "again"), subclasses=["spy"], scenarios=["storage_wipe"],
                  storages=["memory"], reach={})
    assert Path(overlay).parent.joinpath(".complete").stat().st_mtime_ns == built


def test_the_harness_interpreter_and_one_that_has_coverage_get_no_overlay():
    from compat import envs

    assert envs.worker_overlay(sys.executable) == []


def _foreign_venv(tmp_path: Path) -> str:
    """A real venv built with uv holding this venv's dagster release and its dependencies at the
    project's pins, and nothing of the harness: no coverage, no compat."""
    import importlib.metadata

    from compat import envs

    venv_dir = tmp_path / "foreign"
    env = envs.uv_environ()
    subprocess.run([envs.uv_bin(), "venv", "-q", "--python", sys.executable, str(venv_dir)], check=True,
                   capture_output=True, env=env)
    python = str(venv_dir / "bin" / "python")
    subprocess.run([envs.uv_bin(), "pip", "install", "-q", "--python", python,
                    f"dagster=={importlib.metadata.version('dagster')}", "-c", str(ROOT / "constraints.txt")],
                   check=True, capture_output=True, env=env, timeout=900)
    return python


def _installed(python: str) -> str:
    from compat import envs

    return subprocess.run([envs.uv_bin(), "pip", "freeze", "--python", python], capture_output=True, text=True,
                          check=True, env=envs.uv_environ()).stdout


@pytest.mark.slow
def test_compat_baseline_with_a_foreign_venv_records_a_baseline_that_loads_and_checks_green(tmp_path):
    """`compat baseline --python PY` end to end, through the real CLI: PY is a uv venv with dagster
    and without coverage; a small recording (two scenarios, no stored programs) loads, says what
    it holds, and `compat check` against it with the same PY is green; PY is as it was."""
    from compat import envs
    from compat.behaviour import replay
    from compat.baseline import Baseline

    python = _foreign_venv(tmp_path)
    before = _installed(python)
    assert "coverage" not in before.lower() and "dagster==" in before, before
    # the recording's uv reuses the session's warm package cache; its overlay lands in a cache of its own
    env = {**envs.uv_environ(), "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache"),
           "TMPDIR": str(tmp_path)}
    out = tmp_path / "baseline"
    scenarios = ["storage_wipe", "runs_lifecycle"]
    rec = subprocess.run([sys.executable, "-m", "compat", "baseline", "--out", str(out), "--python", python,
                          "--scenarios", *scenarios, "--programs", "0", "-j", "2"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=1800)
    assert rec.returncode == 0, rec.stderr[-3000:]
    base = Baseline(out)
    assert base.manifest["selection"] == {"scenarios": scenarios}
    assert base.manifest["generator"]["source"] == "python"
    planned = replay.plan_cells(scenarios=scenarios, cell_set="gate")
    assert sorted(p.name for p in base.trace_files()) == sorted(f"{replay.trace_filename(c)}" for c in planned)
    assert base.manifest["cells"] == len(planned) > len(scenarios) and base.manifest["fuzz_programs"] == 0
    for path in base.trace_files():
        trace = base.read_trace(path)
        assert trace["cell_error"] is None and trace["meta"]["spied_members"], path.name
    assert list((tmp_path / "cache" / "overlays").iterdir()), "the workers' coverage came from the harness's overlay"

    check = subprocess.run([sys.executable, "-m", "compat", "check", "--baseline", str(out), "--python", python,
                            "--full", "-j", "2"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=1800)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    assert "compatible: no differences" in check.stdout.splitlines(), check.stdout[:1000]
    assert f"replayed {len(planned)}/{len(planned)} behaviour cells" in check.stdout, check.stdout[:1000]
    assert _installed(python) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".baseline.", "compat-"))], list(tmp_path.iterdir())

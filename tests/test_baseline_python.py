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

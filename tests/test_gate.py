"""The pre-merge gate `pytest compat/`: green on a matching baseline, red and readable on an
old one, identical under xdist, and the accepted-changes flow end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compat.gate import accepted
from compat.record import record_baseline
from compat.pipeline import record_static_baseline
from compat.sides import resolve
from compat.tools.mutate import MUTATIONS, Mutation, apply, shadowing_python
from compat.static.extract import DEFAULT_TARGET

ROOT = Path(__file__).resolve().parent.parent


def gate(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "compat"), "-q", "-p", "no:cacheprovider",
                           "--compat-no-behaviour", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=900)


def counts(out: str) -> dict[str, int]:
    last = [ln for ln in out.splitlines() if re.search(r"\d+ (passed|failed)", ln)][-1]
    return {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|error|skipped)", last)}


@pytest.fixture(scope="module")
def installed_baseline(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gate") / "baseline"
    record_baseline(out, target=DEFAULT_TARGET, behaviour=False)
    return out


@pytest.fixture(scope="module")
def old_baseline(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gate-old") / "baseline-1.11.4"
    record_static_baseline(out, resolve("dagster==1.11.4"), DEFAULT_TARGET)
    return out


def test_green_on_matching_baseline(installed_baseline):
    proc = gate("--compat-baseline", str(installed_baseline))
    assert proc.returncode == 0, proc.stdout[-3000:]
    c = counts(proc.stdout)
    assert c.get("failed", 0) == 0 and c["passed"] > 200  # one test per member and attribute


def test_red_on_old_baseline_with_readable_report(old_baseline, tmp_path):
    report = tmp_path / "report.md"
    proc = gate("--compat-baseline", str(old_baseline), "--compat-report", str(report), "--tb=short")
    assert proc.returncode == 1
    out = proc.stdout
    # with --tb=short a failure names the member and shows old and new text, not a stack trace
    assert "test_member[create_run_for_job]" in out
    assert "hook-no-longer-called" in out and "old: def create_run_for_job(" in out
    assert "Traceback" not in out and "def _judge" not in out
    text = report.read_text()
    assert text.startswith("#") and "hook-no-longer-called" in text and "| " in text


def test_a_red_gate_ends_with_the_verdict_and_the_causes(old_baseline):
    """Each failed unit is one short line; the last screen is the verdict and the causes (a red
    gate once printed every unit's old and new code, 1 MB, with the causes buried above)."""
    proc = gate("--compat-baseline", str(old_baseline))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    c = counts(proc.stdout)
    failed = [ln for ln in lines if ln.startswith("FAILED ")]
    assert len(failed) == c["failed"] > 10
    assert not any(ln.startswith("_____") for ln in lines)  # no per-unit sections
    tail = lines[lines.index(next(ln for ln in lines if "compat causes" in ln)):]
    listed = [ln for ln in tail if re.match(r"^  \d+\. ", ln)]  # one line per cause
    assert len(lines) < c["failed"] + len(listed) + 40, proc.stdout[-3000:]
    assert tail[1].startswith("incompatible: ") and tail[2].startswith("  1. breaking ")
    assert not any(ln.startswith("FAILED ") for ln in tail)
    assert re.match(r"^\d+ failed, \d+ passed", tail[-1])  # pytest's own last line only follows


def test_same_outcome_with_xdist(old_baseline, tmp_path):
    """xdist workers take the static findings from the controller: the same tests fail and the
    report is byte-identical."""
    serial = gate("--compat-baseline", str(old_baseline), "--compat-report", str(tmp_path / "serial.md"))
    parallel = gate("--compat-baseline", str(old_baseline), "-n", "2", "--compat-report", str(tmp_path / "parallel.md"))
    assert serial.returncode == parallel.returncode == 1
    assert counts(serial.stdout) == counts(parallel.stdout)
    assert (tmp_path / "serial.md").read_bytes() == (tmp_path / "parallel.md").read_bytes()

    def failed(out: str) -> set[str]:
        return set(re.findall(r"^FAILED (\S+)", out, re.M))

    assert failed(serial.stdout) == failed(parallel.stdout) and failed(serial.stdout)


def test_xdist_workers_keep_their_bytecode_under_the_cache(old_baseline, tmp_path, monkeypatch):
    """Where PYTHONDONTWRITEBYTECODE is set (CI containers), every xdist worker would compile
    pytest, pydantic and griffe again: the gate starts them with the cache's bytecode prefix, so
    the next run reads what this one wrote (under the cache, never beside a source)."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("COMPAT_CACHE_DIR", str(tmp_path / "cache"))
    proc = gate("--compat-baseline", str(old_baseline), "-n", "2")
    assert proc.returncode == 1, proc.stdout[-2000:]
    import xdist.remote

    remote = Path(xdist.remote.__file__).resolve()
    mirror = tmp_path / "cache" / "bytecode" / remote.parent.relative_to(remote.anchor)
    assert list(mirror.glob("remote.*.pyc")), "an xdist worker imported its own module without the prefix"


def _mutant(tmp_path: Path, *ids: str) -> str:
    edits = tuple(e for m in MUTATIONS if m.id in ids for e in m.edits)
    root = apply(Mutation("+".join(ids), True, "combined", edits), tmp_path / "site")
    return shadowing_python(root, tmp_path)


def test_accept_flow(installed_baseline, tmp_path):
    """A real change fails the gate; accepted with a reason it passes; a second, unaccepted
    change fails again; an entry that no longer matches anything is reported as stale."""
    base = tmp_path / "baseline"
    import shutil

    shutil.copytree(installed_baseline, base)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = _mutant(tmp_path / "one", "renamed-parameter")
    red = gate("--compat-baseline", str(base), "--compat-python", one)
    # the red gate's last screen names the cause (a unit's own line is cut to the terminal's width)
    assert red.returncode == 1 and "`add_run_tags`: parameter renamed `new_tags`" in red.stdout, red.stdout[-2000:]

    accepted.save(base, [accepted.Accepted("parameter-renamed", "add_run_tags", "tags is the new public name, reviewed")])
    green = gate("--compat-baseline", str(base), "--compat-python", one)
    assert green.returncode == 0, green.stdout[-2000:]

    two = _mutant(tmp_path / "two", "renamed-parameter", "property-to-method")
    red_again = gate("--compat-baseline", str(base), "--compat-python", two)
    assert red_again.returncode == 1
    assert "`telemetry_enabled`: override kind mismatch, member kind changed" in red_again.stdout
    assert "test_member[telemetry_enabled]" in red_again.stdout
    assert "test_member[add_run_tags]" not in re.findall(r"^FAILED .*", red_again.stdout, re.M).__str__()

    stale = gate("--compat-baseline", str(base))  # the unchanged dagster: the entry matches nothing
    assert stale.returncode == 1 and "stale accepted entry: parameter-renamed add_run_tags" in stale.stdout


def test_update_rerecords_atomically_and_reports_changes(old_baseline, tmp_path):
    import shutil

    base = tmp_path / "baseline"
    shutil.copytree(old_baseline, base)
    proc = gate("--compat-baseline", str(base), "--compat-update")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "compat baseline updated" in proc.stdout and "changed: surface.json" in proc.stdout
    manifest = json.loads((base / "manifest.json").read_text())
    assert manifest["generator"]["dagster"] != "1.11.4"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".baseline")]


def test_settings_from_pyproject(tmp_path, old_baseline):
    """[tool.compat] in the rootdir's pyproject.toml sets the same options."""
    (tmp_path / "pyproject.toml").write_text(f'[tool.compat]\nbaseline = "{old_baseline}"\nfail-on = "never"\n')
    proc = gate("--rootdir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_missing_baseline_is_a_usage_error(tmp_path):
    proc = gate("--compat-baseline", str(tmp_path / "nope"))
    assert proc.returncode == 4
    assert "compat: baseline" in proc.stderr and "Traceback" not in proc.stderr


def test_shipped_default_baseline_matches_the_installed_dagster():
    """`pytest compat/` is green out of the box only if the shipped baseline was recorded from
    the dagster this project installs; re-record it (`make baseline`) when the pin moves."""
    from importlib.metadata import version

    from compat.baseline import Baseline

    base = Baseline(ROOT / "snapshots" / "baseline")
    assert base.surface.generator["dagster"] == version("dagster")
    assert base.manifest["cell_set"] == "gate" and base.manifest["cells"] == len(base.trace_files())


def test_gate_cell_set_spies_on_every_corpus_class():
    from compat.behaviour import replay
    from compat.corpus import CORPUS
    from compat.model.errors import CompatError
    from compat.behaviour.scenarios import SCENARIOS

    gate_cells = replay.plan_cells()
    subs = {c["subclass"] for c in gate_cells}
    assert subs == {"spy"} | {f"spy:{n}" for n in CORPUS if n != "base"}
    # the plain spy and the spy on custom storages (whose calls into its storages are noted) cover
    # every scenario on every storage; the other corpus spies run in memory
    every = {(s.name, st) for s in SCENARIOS.values() for st in s.storages}
    for sub in ("spy", "spy:forwarding-storages"):
        assert {(c["scenario"], c["storage"]) for c in gate_cells if c["subclass"] == sub} == every, sub
    assert {c["storage"] for c in gate_cells if c["subclass"] not in ("spy", "spy:forwarding-storages")} == {"memory"}
    full = replay.plan_cells(cell_set="full")
    assert len(full) > 3 * len(gate_cells) and all(c in full for c in gate_cells)
    with pytest.raises(CompatError, match="unknown cell set"):
        replay.plan_cells(cell_set="everything")

"""What a stranger's baseline, a mistyped path or a partial run must never do: replace a folder
that is not a baseline, re-record half of one, or read a file outside it."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from compat.baseline import Baseline, check_replaceable_baseline
from compat.record import record_baseline
from compat.model.errors import CompatError
from compat.static.extract import DEFAULT_TARGET

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "snapshots" / "baseline"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _gate_update(base: str, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "compat", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(cwd), "--compat-no-behaviour", "--compat-update",
                           "--compat-baseline", base, *extra],
                          capture_output=True, text=True, cwd=cwd, timeout=600,
                          env={**os.environ, "COMPAT_QUIET": "1"})


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compat", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={**os.environ, "COMPAT_QUIET": "1"})


@pytest.mark.parametrize("front", ["cli", "gate"])
def test_a_folder_of_user_files_is_refused_and_kept(tmp_path, front):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("a week of work\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "data.json").write_text("{}\n")
    before = _files(folder)
    proc = _cli("baseline", "--out", str(folder)) if front == "cli" else _gate_update(str(folder), tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == (2 if front == "cli" else 4), out
    assert "not a baseline" in out and "refusing to replace it" in out and "Traceback" not in out, out
    assert _files(folder) == before


@pytest.mark.parametrize("front", ["cli", "gate"])
def test_an_empty_baseline_path_is_refused_and_the_project_kept(tmp_path, front):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (project / "code.py").write_text("x = 1\n")
    before = _files(project)
    proc = _cli("baseline", "--out", "", cwd=project) if front == "cli" else _gate_update("", project)
    out = proc.stdout + proc.stderr
    assert proc.returncode == (2 if front == "cli" else 4), out
    assert "empty" in out and ("--out" in out or "''" in out) and "Traceback" not in out, out
    assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1, proc.stderr
    assert _files(project) == before


def test_what_may_be_replaced(tmp_path):
    (tmp_path / "empty").mkdir()
    assert check_replaceable_baseline(tmp_path / "empty") == tmp_path / "empty"
    assert check_replaceable_baseline(tmp_path / "absent") == tmp_path / "absent"
    assert check_replaceable_baseline(SHIPPED) == SHIPPED
    (tmp_path / "afile").write_text("x")
    (tmp_path / "link").symlink_to(SHIPPED)
    bad = tmp_path / "bad-manifest"
    bad.mkdir()
    (bad / "manifest.json").write_text('{"schema": "compat.baseline", "schema_version": 1}')  # no target
    for path, says in [(tmp_path / "afile", "not a directory"), (tmp_path / "link", "symbolic link"),
                       (bad, "not a baseline"), ("", "empty path"), (" ", "empty path")]:
        with pytest.raises(CompatError, match=says):
            check_replaceable_baseline(path)


def test_an_update_refused_by_accepted_json_has_rewritten_nothing(tmp_path):
    base = tmp_path / "baseline"
    shutil.copytree(SHIPPED, base, ignore=shutil.ignore_patterns("traces", "reach.json", "fuzz"))
    manifest = json.loads((base / "manifest.json").read_text())
    manifest.update(cells=0, fuzz_programs=0, cell_set=None)
    (base / "manifest.json").write_text(json.dumps(manifest))
    (base / "accepted.json").write_text(json.dumps({"schema": "compat.accepted", "schema_version": 1, "accepted": [
        {"rule": "no-such-rule", "member": "x", "reason": "r"}]}))
    before = _files(base)
    proc = _gate_update(str(base), tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4 and "no known rule" in out and "Traceback" not in out, out
    assert _files(base) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".baseline.")]


def test_a_rerecord_keeps_the_folders_mode(tmp_path):
    base = tmp_path / "baseline"
    record_baseline(base, target=DEFAULT_TARGET, behaviour=False)
    for mode in (0o755, 0o750):
        base.chmod(mode)
        record_baseline(base, target=DEFAULT_TARGET, behaviour=False)
        assert stat.S_IMODE(base.stat().st_mode) == mode
    assert Baseline(base).warnings == []  # a recording keeps the digest of every file it wrote


def test_links_in_a_baseline_are_refused_never_followed_or_copied(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("token\n")
    base = tmp_path / "baseline"
    shutil.copytree(SHIPPED, base)
    (base / "traces" / "planted.json").symlink_to(secret)
    with pytest.raises(CompatError, match="planted.json: is a symbolic link"):
        Baseline(base)
    before = _files(base)
    proc = _cli("baseline", "--out", str(base))
    assert proc.returncode == 2 and "symbolic link" in proc.stderr, proc.stderr
    assert _files(base) == before and os.path.islink(base / "traces" / "planted.json")


def test_a_profile_path_outside_the_baseline_is_refused(tmp_path):
    base = tmp_path / "baseline"
    shutil.copytree(SHIPPED, base)
    (tmp_path / "outside.json").write_text("{}")
    manifest = json.loads((base / "manifest.json").read_text())
    manifest["profiles"].append("../../outside.json")
    (base / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CompatError, match="not a file name inside profiles/"):
        Baseline(base)


def test_a_manifest_target_is_not_imported_unless_named(tmp_path):
    base = tmp_path / "baseline"
    shutil.copytree(SHIPPED, base)
    manifest = json.loads((base / "manifest.json").read_text())
    manifest["target"] = "planted:Evil"
    (base / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "planted.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').write('x')\nclass Evil: pass\n")
    proc = _cli("check", "--baseline", str(base), cwd=tmp_path)
    assert proc.returncode == 2 and "planted:Evil" in proc.stderr and "name that target" in proc.stderr, proc.stderr
    gate = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "compat", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), "--compat-no-behaviour", "--compat-baseline", str(base)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert gate.returncode == 4 and "name that target" in gate.stderr, gate.stdout + gate.stderr
    assert not (tmp_path / "ran").exists()


def _gate(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider",
                           "--compat-no-behaviour", *args], capture_output=True, text=True, cwd=cwd, timeout=600,
                          env={**os.environ, "COMPAT_QUIET": "1", **(env or {})})


CRASH_PLUGIN = '''
import os
def pytest_runtest_call(item):
    if "workerinput" in dir(item.config) and item.name.startswith("test_member[add_"):
        os._exit(9)
'''


@pytest.mark.parametrize("how", ["collect-only", "keyword", "crashed-xdist-worker"])
def test_a_run_that_did_not_run_every_unit_is_incomplete_never_compatible(tmp_path, how):
    report = tmp_path / "r.md"
    env = None
    if how == "collect-only":
        args = ["--collect-only"]
    elif how == "keyword":
        args = ["-k", "test_profile"]
    else:
        (tmp_path / "crashplug.py").write_text(CRASH_PLUGIN)
        args = ["-n", "2", "-p", "crashplug"]
        env = {"PYTHONPATH": str(tmp_path)}
    proc = _gate(ROOT, *args, "--compat-report", str(report), env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert "compat: incomplete: " in proc.stdout and "compatible: no differences" not in proc.stdout.split(
        "compat: incomplete")[0], out[-3000:]
    head = report.read_text().splitlines()[2]
    assert head.startswith("**incomplete: ") and " units ran " in head, head


def test_a_complete_run_is_compatible_and_exits_0():
    proc = _gate(ROOT)
    assert proc.returncode == 0 and "incomplete" not in proc.stdout, proc.stdout[-2000:]


def test_every_format_says_incomplete():
    from compat.result import CheckResult

    result = CheckResult(target="t", old_label="a", new_label="b", findings=[], incomplete=(3, 10))
    assert result.exit_code("breaking") == 1 and result.exit_code("never") == 1
    for fmt in ("text", "markdown", "github", "junit"):
        assert "incomplete: 3 of 10 units ran" in result.render(fmt), fmt
    data = json.loads(result.render("json", "never"))
    assert data["summary"]["verdict"] == "incomplete" and data["summary"]["units"] == {"ran": 3, "total": 10}
    assert "compatible" == json.loads(CheckResult(target="t", old_label="a", new_label="b",
                                                  findings=[]).render("json"))["summary"]["verdict"]


def test_a_behaviour_entry_of_accepted_json_is_judged_stale(tmp_path):
    """An entry of a replay rule that no cell or program produces fails a complete gate run
    like a stale static entry does."""
    base = tmp_path / "baseline"
    shutil.copytree(SHIPPED, base, ignore=shutil.ignore_patterns("reach.json", "fuzz"))
    for trace in (base / "traces").glob("*.json"):
        if not trace.name.startswith("spy__storage_wipe__"):
            trace.unlink()  # two cells, replayed in full (no reach map): the same dagster, identical
    manifest = json.loads((base / "manifest.json").read_text())
    manifest.update(cells=2, fuzz_programs=0, selection={"subclasses": ["spy"], "scenarios": ["storage_wipe"]})
    (base / "manifest.json").write_text(json.dumps(manifest))
    (base / "accepted.json").write_text(json.dumps({"schema": "compat.accepted", "schema_version": 1, "accepted": [
        {"rule": "behaviour-dispatch-changed", "member": "spy__*", "reason": "reviewed once"}]}))
    proc = subprocess.run([sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider",
                           "--compat-baseline", str(base)], capture_output=True, text=True, cwd=ROOT, timeout=900,
                          env={**os.environ, "COMPAT_QUIET": "1"})
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "stale accepted entry: behaviour-dispatch-changed spy__*" in proc.stdout, proc.stdout[-3000:]


@pytest.mark.parametrize("pattern", ["*", "**", "?*", "[!!]*"])
def test_an_accepted_pattern_matching_every_member_is_refused(tmp_path, pattern):
    base = tmp_path / "baseline"
    shutil.copytree(SHIPPED, base, ignore=shutil.ignore_patterns("traces", "reach.json", "fuzz"))
    manifest = json.loads((base / "manifest.json").read_text())
    manifest.update(cells=0, fuzz_programs=0, cell_set=None)
    (base / "manifest.json").write_text(json.dumps(manifest))
    (base / "accepted.json").write_text(json.dumps({"schema": "compat.accepted", "schema_version": 1, "accepted": [
        {"rule": "parameter-renamed", "member": pattern, "reason": "everything is fine"}]}))
    with pytest.raises(CompatError, match="matches every member"):
        Baseline(base)


def test_a_projects_own_baseline_is_used_or_refused_never_swapped(tmp_path):
    from compat.gate.gate import default_baseline

    project = tmp_path / "project"
    (project / "snapshots" / "baseline").mkdir(parents=True)
    (project / "snapshots" / "baseline" / "manifest.json").write_text('{"schema": "compat.baseline", "sch')
    with pytest.raises(CompatError, match="corrupt or truncated"):
        default_baseline(project, None)
    manifest = json.loads((SHIPPED / "manifest.json").read_text())
    manifest["generator"]["dagster"] = "1.11.4"
    (project / "snapshots" / "baseline" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CompatError, match="is dagster 1.11.4"):
        default_baseline(project, None)
    elsewhere = tmp_path / "no-baseline"
    elsewhere.mkdir()
    assert default_baseline(elsewhere, None) == ROOT / "snapshots" / "baseline"

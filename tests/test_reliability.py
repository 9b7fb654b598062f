"""Isolation, determinism and broken inputs of the harness as a whole."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compat.baseline import Baseline
from compat.record import record_baseline
from compat.model.errors import CompatError
from compat.static.extract import DEFAULT_TARGET

ROOT = Path(__file__).resolve().parent.parent
CELLS = dict(subclasses=["spy:event-filter", "spy:create-run-tags"],
             scenarios=["runs_lifecycle", "partitions_dynamic", "configuration_defaults"])


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def repo_state() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                          capture_output=True, text=True).stdout


def test_runs_touch_neither_home_nor_repo(tmp_path):
    """With a read-only HOME and no DAGSTER_HOME, snapshot, diff, a behaviour recording and a
    fuzz run all work, and neither HOME nor the repository outside snapshots/ changes."""
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(stat.S_IRUSR | stat.S_IXUSR)
    before = repo_state()
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME",)}
    env.update(HOME=str(home), COMPAT_QUIET="1", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    script = f"""
import sys, tempfile
from compat.behaviour import replay
from compat.fuzz.differential import run_fuzz
from compat.static.extract import snapshot
snapshot({DEFAULT_TARGET!r}, use_cache=False)
out = tempfile.mkdtemp()
replay.record(sys.executable, out, subclasses=['spy:private-state'], scenarios=['runs_lifecycle'])
run_fuzz(sys.executable, sys.executable, max_examples=3, subclasses=('spy:telemetry-off',))
"""
    try:
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path,
                              timeout=600)
        cli = subprocess.run([sys.executable, "-m", "compat", "diff", "dagster==1.11.4", "installed", "--fail-on", "never"],
                             env=env, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    finally:
        home.chmod(stat.S_IRWXU)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert list(home.iterdir()) == []
    assert repo_state() == before


@pytest.mark.slow  # records twenty baselines
def test_twenty_static_baselines_are_byte_identical(tmp_path):
    digests = set()
    for i in range(20):
        out = tmp_path / f"b{i}"
        record_baseline(out, target=DEFAULT_TARGET, behaviour=False)
        digests.add(tuple(sorted(tree_digest(out).items())))
    assert len(digests) == 1


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_traces_identical_across_hash_seeds_timezones_locales_and_workers(tmp_path, jobs):
    outs = []
    for seed, tz, lang in (("0", "UTC", "C.UTF-8"), ("4242", "Asia/Kolkata", "en_US.UTF-8")):
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": tz, "LANG": lang, "LC_ALL": lang}
        out = tmp_path / f"{seed}-{jobs}"
        code = (f"import sys; from compat.behaviour import replay; replay.record(sys.executable, {str(out)!r}, "
                f"subclasses={CELLS['subclasses']!r}, scenarios={CELLS['scenarios']!r}, jobs={jobs})")
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=600)
        outs.append(tree_digest(out))
    assert outs[0] == outs[1] and outs[0]


@pytest.mark.slow
def test_interrupted_update_leaves_old_baseline_loadable(tmp_path):
    """Kill a re-recording midway (during behaviour recording): the old baseline still loads
    and no half-written file is left in it."""
    base = tmp_path / "baseline"
    record_baseline(base, target=DEFAULT_TARGET, behaviour=False)
    before = tree_digest(base)
    code = (f"from compat.record import record_baseline; "
            f"record_baseline({str(base)!r}, target={DEFAULT_TARGET!r}, behaviour=True)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any(tmp_path.glob(".baseline.*/surface.json")):
        time.sleep(0.2)
    time.sleep(2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert tree_digest(base) == before
    Baseline(base)  # still loads


@pytest.mark.parametrize("damage,needle", [
    ("manifest", "manifest.json is missing"),
    ("surface", "surface.json is missing"),
    ("truncate-surface", "corrupt or truncated"),
    ("profile", "profiles/"),
])
def test_baseline_missing_parts(tmp_path, damage, needle):
    base = tmp_path / "b"
    record_baseline(base, target=DEFAULT_TARGET, behaviour=False)
    if damage == "manifest":
        (base / "manifest.json").unlink()
    elif damage == "surface":
        (base / "surface.json").unlink()
    elif damage == "truncate-surface":
        text = (base / "surface.json").read_text()
        (base / "surface.json").write_text(text[: len(text) // 2])
    else:
        shutil.rmtree(base / "profiles")
    with pytest.raises(CompatError, match=needle):
        Baseline(base)
    proc = subprocess.run([sys.executable, "-m", "compat", "check", "--baseline", str(base)], capture_output=True,
                          text=True, env={**os.environ, "COMPAT_QUIET": "1"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_profile_of_package_without_subclasses(tmp_path):
    pkg = tmp_path / "plain"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("class Nothing:\n    pass\n")
    proc = subprocess.run([sys.executable, "-m", "compat", "profile", str(pkg)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no subclass" in proc.stderr.lower()


@pytest.mark.parametrize("damage,needle", [
    ("empty-trace", "empty file"),
    ("truncated-trace", "corrupt or truncated"),
    ("future-trace", "schema version 99 is not supported"),
    ("truncated-programs", "corrupt or truncated"),
])
def test_damaged_trace_or_program_files(tmp_path, damage, needle):
    """`compat check` stops with one line and exit 2; the gate fails that one test with one
    line instead of a traceback."""
    from compat.behaviour import replay
    from compat.fuzz import differential
    from compat.model import jsonio

    base = tmp_path / "b"
    record_baseline(base, target=DEFAULT_TARGET, behaviour=False)
    paths = replay.record(sys.executable, str(base), subclasses=["spy"], scenarios=["runs_lifecycle"],
                             storages=["memory"])
    programs = differential.record_programs(sys.executable, base / differential.PROGRAMS_FILE, max_examples=9)
    manifest = jsonio.read_json(base / "manifest.json", schema="compat.baseline", versions=(1,))
    # the counts the baseline holds: a manifest that disagrees is refused before any file is read
    jsonio.write_json(base / "manifest.json", {**manifest, "cells": len(paths), "fuzz_programs": programs,
                                                "cell_set": "gate", "selection": {"subclasses": ["spy"],
                                                "scenarios": ["runs_lifecycle"], "storages": ["memory"]}})
    trace, programs = paths[0], base / differential.PROGRAMS_FILE
    if damage == "empty-trace":
        trace.write_text("")
    elif damage == "truncated-trace":
        trace.write_text(trace.read_text()[:300])
    elif damage == "future-trace":
        trace.write_text(re.sub(r'"schema_version": \d+', '"schema_version": 99', trace.read_text(), count=1))
    else:
        programs.write_text(programs.read_text()[:300])
    proc = subprocess.run([sys.executable, "-m", "compat", "check", "--baseline", str(base)], capture_output=True,
                          text=True, env={**os.environ, "COMPAT_QUIET": "1"})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1 and needle in proc.stderr
    gate = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "compat"), "-q", "-p", "no:cacheprovider",
                           "--compat-baseline", str(base), "-k", "test_behaviour", "--tb=short"],
                          capture_output=True, text=True, cwd=tmp_path)
    out = gate.stdout + gate.stderr
    assert gate.returncode in (1, 4) and needle in out and "Traceback" not in out, out[-2000:]


@pytest.mark.parametrize("how", ["option", "project-setting", "project-setting-from-its-folder"])
def test_a_static_rerecord_keeps_the_recorded_traces_and_programs(tmp_path, how):
    """`--compat-update` with behaviour off (`--compat-no-behaviour`, or `behaviour = false` under
    a project's `[tool.compat]`, where the gate runs as a plugin) re-records what it was asked to
    (surface, profiles) and keeps the behaviour layers (traces, programs, the reach map) instead
    of deleting them. Started from the project's folder without `--rootdir`, pytest roots at the
    harness's repository (an editable install): the project's settings apply all the same."""
    base = tmp_path / "baseline"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    traces = sorted(p.name for p in (base / "traces").glob("*.json"))
    programs = (base / "fuzz" / "programs.json").read_bytes()
    reach = (base / "reach.json").read_bytes()
    if how == "option":
        where, args = ROOT, ["compat", "--compat-no-behaviour"]
    else:
        where = tmp_path / "project"  # the gate as an installed plugin, reading that project's settings
        args = ["--pyargs", "compat"] + (["--rootdir", str(where)] if how == "project-setting" else [])
        where.mkdir()
        (where / "pyproject.toml").write_text("[tool.compat]\nbehaviour = false\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider", "--compat-update",
                           "--compat-baseline", str(base)],
                          capture_output=True, text=True, cwd=where, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in (base / "traces").glob("*.json")) == traces
    assert (base / "fuzz" / "programs.json").read_bytes() == programs
    assert (base / "reach.json").read_bytes() == reach  # what the kept cells executed, kept with them
    manifest = json.loads((base / "manifest.json").read_text())
    assert manifest["cells"] == len(traces) and manifest["fuzz_programs"] > 0


def test_the_tests_write_no_hypothesis_directory_where_they_run(tmp_path):
    """Hypothesis's example database goes to the session's temp HOME, not `.hypothesis/` of the
    directory pytest runs in (the repository root, for `make test`). A failing property is what
    makes Hypothesis write its database for sure: without the tests' conftest, this same run
    leaves `.hypothesis/` behind."""
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "tests" / "conftest.py")
    (tmp_path / "tests" / "test_small.py").write_text(
        "from hypothesis import given, strategies as st\n\n"
        "@given(st.integers())\ndef test_small(x):\n    assert x < 10\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/test_small.py", "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1 and "1 failed" in proc.stdout, proc.stdout[-2000:]
    assert not (tmp_path / ".hypothesis").exists()
    assert not (tmp_path / "tests" / ".hypothesis").exists()

"""Interrupts: SIGINT and SIGTERM stop a long command's workers, remove its temp dirs, keep the
old baseline, and say so in one line; what a SIGKILL leaves behind is swept by the next run."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compat import tempdirs
from compat.baseline import Baseline

ROOT = Path(__file__).resolve().parent.parent


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("sig, code, name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_an_interrupted_baseline_run_stops_its_workers_and_keeps_the_old_baseline(tmp_path, sig, code, name):
    base = tmp_path / "base"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    before = _digest(base)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "compat", "baseline", "--out", str(base), "-j", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(tmp.glob("compat-worker-*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    time.sleep(1.0)  # workers are up and running cells
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in err, err
    assert not list(tmp.glob("compat-worker-*")), list(tmp.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".base.")], list(tmp_path.iterdir())
    assert _digest(base) == before
    assert Baseline(base).trace_files()


def test_what_a_killed_run_left_behind_is_swept_by_the_next(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "compat-worker-stale"
    stale.mkdir()
    (stale / tempdirs.OWNER).write_text(f"{dead.pid}\n")
    foreign = tmp_path / "compat-worker-foreign"  # no owner file: not ours to remove
    foreign.mkdir()
    mine = tempdirs.make("compat-worker-", tmp_path)
    assert not stale.exists() and foreign.exists() and mine.exists()


@pytest.mark.parametrize("wait", [0.0, 4.0])
def test_a_killed_baseline_run_keeps_the_old_baseline_and_its_leftovers_are_swept(tmp_path, wait):
    base = tmp_path / "base"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    before = _digest(base)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "compat", "baseline", "--out", str(base), "-j", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(tmp.glob("compat-worker-*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(wait)
    proc.kill()  # SIGKILL: no handler, no finally
    proc.wait(timeout=60)
    assert _digest(base) == before and Baseline(base).trace_files()
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".base.")] + list(tmp.glob("compat-worker-*"))
    assert left, "a SIGKILL leaves its temp dirs behind"
    tempdirs.sweep(".base.", tmp_path)
    tempdirs.sweep("compat-worker-", tmp)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".base.")] and not list(tmp.glob("compat-worker-*"))


def _gate(base: Path, tmp: Path, cache: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp), "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider",
                             "--compat-baseline", str(base), *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_workers(proc: subprocess.Popen, tmp: Path) -> None:
    deadline = time.monotonic() + 300
    while not list(tmp.glob("compat-worker-*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()


@pytest.mark.parametrize("phase", ["--compat-update", "replay"])
@pytest.mark.parametrize("sig, code, name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_an_interrupted_gate_stops_its_workers_says_so_and_keeps_the_baseline(tmp_path, phase, sig, code, name):
    """While re-recording (--compat-update) or while replaying cells: exit 130/143, one line on
    stderr, no worker or temp dir left, the baseline byte-identical."""
    base = tmp_path / "base"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    before = _digest(base)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # the shipped baseline was recorded on the installed dagster, so only --compat-full replays
    proc = _gate(base, tmp, tmp_path / "cache", phase if phase.startswith("--") else "--compat-full")
    _wait_for_workers(proc, tmp)
    time.sleep(1.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, out[-2000:] + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and name in lines[0] and "stopped" in lines[0], err
    assert "Traceback" not in out + err and "INTERNALERROR" not in out + err
    assert not list(tmp.glob("compat-worker-*")), list(tmp.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".base.")], list(tmp_path.iterdir())
    assert _digest(base) == before


def test_a_killed_update_keeps_the_old_baseline_and_the_next_run_sweeps_its_leftovers(tmp_path):
    base = tmp_path / "base"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    before = _digest(base)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = _gate(base, tmp, tmp_path / "cache", "--compat-update")
    _wait_for_workers(proc, tmp)
    time.sleep(2.0)
    proc.kill()
    proc.communicate(timeout=60)
    assert _digest(base) == before and Baseline(base).trace_files()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".base.")], "a SIGKILL leaves its temp dirs behind"
    # the next run (a static re-record, which keeps the recorded traces) sweeps them
    again = _gate(base, tmp, tmp_path / "cache", "--compat-update", "--compat-no-behaviour")
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out[-2000:] + err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".base.")], list(tmp_path.iterdir())
    assert not list(tmp.glob("compat-worker-*")), list(tmp.iterdir())
    assert len(Baseline(base).trace_files()) == Baseline(base).manifest["cells"] > 0


@pytest.mark.parametrize("sig, code, name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_a_signal_while_still_importing_is_one_line_and_the_documented_code(tmp_path, sig, code, name):
    """`-X importtime` says, module by module, how far the import has come: the signal is sent
    once the harness's heavy dependencies are being imported and before `compat.cli` is done."""
    env = {**os.environ, "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "compat", "snapshot", "-o",
                             str(tmp_path / "s.json")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.split("|")[-1].strip() in ("pydantic", "griffe", "compat.model.jsonio"):
            break
    assert not any(ln.split("|")[-1].strip() == "compat.cli" for ln in seen), "the harness finished importing first"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("import time:")]
    assert proc.returncode == code, err[-3000:]
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in err, lines
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("front", ["cli", "gate"])
def test_two_sigints_in_a_row_leave_no_traceback_and_no_temp_dirs(tmp_path, front):
    base = tmp_path / "base"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    before = _digest(base)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    if front == "cli":
        env = {**os.environ, "TMPDIR": str(tmp), "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache")}
        proc = subprocess.Popen([sys.executable, "-m", "compat", "baseline", "--out", str(base), "-j", "2"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    else:
        proc = _gate(base, tmp, tmp_path / "cache", "--compat-full")
    _wait_for_workers(proc, tmp)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)  # the second one lands while the first one's cleanup runs
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out[-2000:] + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "SIGINT" in lines[0], err
    assert "Traceback" not in out + err and "INTERNALERROR" not in out + err
    assert not list(tmp.glob("compat-worker-*")), list(tmp.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".base.")], list(tmp_path.iterdir())
    assert _digest(base) == before

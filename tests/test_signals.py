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


# --- under xdist, and `compat check -j 2`: every process of the run is found by a marker in its
# environment (inherited by every child, whatever session or process group it starts), so a
# worker that outlived the run is found even once it was handed to init
def _marked(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or a zombie's environment that is no longer there
            continue
    return found


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for t in Path(f"/proc/{pid}/task").iterdir()
                for c in (t / "children").read_text().split()]
    except OSError:
        return []


def _run_of_its_own(tmp_path: Path, argv: list[str]) -> tuple[subprocess.Popen, Path, str, str]:
    base = tmp_path / "base"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    marker = f"COMPAT_SIGNAL_RUN={tmp_path.name}-{os.getpid()}"
    key, value = marker.split("=", 1)
    env = {**os.environ, "TMPDIR": str(tmp), "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache"),
           key: value}
    proc = subprocess.Popen([sys.executable, *[a.replace("{base}", str(base)) for a in argv]], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, tmp, marker, _digest(base)


def _until(ready, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 600
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None and ready(), f"the run ended or never got {what}: " + "".join(proc.communicate())[-3000:]


def _stopped_cleanly(proc, tmp_path: Path, tmp: Path, marker: str, before: str, code: int, name: str) -> None:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == code, out[-2000:] + err[-3000:]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and name in lines[0] and "stopped" in lines[0], err[-3000:]
    assert "Traceback" not in out + err and "INTERNALERROR" not in out + err, out[-2000:] + err[-2000:]
    # every process of the run is gone: the xdist workers, their behaviour workers, the fork server
    deadline = time.monotonic() + 30
    while _marked(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _marked(marker)
    assert not left, [Path(f"/proc/{p}/cmdline").read_bytes()[:200] for p in left if Path(f"/proc/{p}").exists()]
    assert not [p for p in tmp.iterdir() if p.name.startswith("compat-")], list(tmp.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".base.")], list(tmp_path.iterdir())
    assert _digest(tmp_path / "base") == before


GATE_XDIST = ["-m", "pytest", "--pyargs", "compat", "-q", "-p", "no:cacheprovider", "-n", "2",
              "--compat-baseline", "{base}", "--compat-full"]


@pytest.mark.parametrize("instant", ["collection", "replay"])
@pytest.mark.parametrize("sig, code, name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_an_interrupted_gate_under_xdist_stops_every_worker(tmp_path, instant, sig, code, name):
    """`pytest --pyargs compat -n 2`: the signal reaches the controller while its two xdist workers
    collect (they are up, no behaviour worker yet) or while they replay cells (behaviour workers
    up). Exit 130/143, one line, no process of the run left, no temp dir, the baseline as it was."""
    proc, tmp, marker, before = _run_of_its_own(tmp_path, GATE_XDIST)
    if instant == "collection":
        _until(lambda: len(_children(proc.pid)) >= 2, proc, "its xdist workers")
    else:
        _until(lambda: list(tmp.glob("compat-worker-*")), proc, "a behaviour worker")
    proc.send_signal(sig)
    _stopped_cleanly(proc, tmp_path, tmp, marker, before, code, name)


@pytest.mark.parametrize("front", ["gate-xdist", "check"])
def test_two_signals_in_a_row_under_xdist_and_check_j2_leave_nothing_behind(tmp_path, front):
    """A SIGINT, then a SIGTERM while the first one's cleanup runs: the first one decides the
    code and the line; nothing is left of the run."""
    argv = GATE_XDIST if front == "gate-xdist" else ["-m", "compat", "check", "--baseline", "{base}", "--full",
                                                       "-j", "2"]
    proc, tmp, marker, before = _run_of_its_own(tmp_path, argv)
    _until(lambda: list(tmp.glob("compat-worker-*")), proc, "a behaviour worker")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)  # the second one lands while the first one's cleanup runs
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _stopped_cleanly(proc, tmp_path, tmp, marker, before, 130, "SIGINT")


@pytest.mark.parametrize("sig, code, name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_an_interrupted_check_with_two_jobs_stops_its_workers(tmp_path, sig, code, name):
    proc, tmp, marker, before = _run_of_its_own(
        tmp_path, ["-m", "compat", "check", "--baseline", "{base}", "--full", "-j", "2"])
    _until(lambda: len(list(tmp.glob("compat-worker-*"))) >= 2, proc, "its two behaviour workers")
    proc.send_signal(sig)
    _stopped_cleanly(proc, tmp_path, tmp, marker, before, code, name)


def test_an_interrupt_removes_the_worker_homes_this_process_made_and_no_others(tmp_path, monkeypatch):
    """A worker a background thread was still starting when the signal came has a home before it
    is tracked; the final stop removes every home this process made, and leaves another's."""
    import tempfile

    from compat import signals, tempdirs

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    mine = tempdirs.make("compat-worker-", tmp_path)
    other = tmp_path / "compat-worker-of-another-run"
    other.mkdir()
    (other / tempdirs.OWNER).write_text("1\n")  # pid 1 runs as long as the system does
    signals.remove_own_homes()
    assert not mine.exists() and other.is_dir()

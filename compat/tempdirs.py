"""Temporary directories that say who made them, so that what a killed run left behind (SIGKILL
runs no cleanup) is removed by the next run, and an interrupted run removes its own at once.

Each directory holds `.owner` with the pid of the process that made it; :func:`sweep` removes
those of a prefix whose owner no longer runs. Worker processes register themselves in
:data:`LIVE` so that an interrupt can stop them (see :func:`stop_all`).
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

OWNER = ".owner"
LIVE: set = set()  # objects with a kill() method: the worker processes of this run
_LOCK = threading.Lock()


def make(prefix: str, parent: str | os.PathLike[str] | None = None) -> Path:
    """A new directory `<parent>/<prefix>XXXX` owned by this process (stale ones swept first)."""
    sweep(prefix, parent)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (path / OWNER).write_text(f"{os.getpid()}\n")
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(prefix: str, parent: str | os.PathLike[str] | None = None) -> int:
    """Remove `prefix*` directories whose owner process is gone; how many were removed."""
    root = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    removed = 0
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(prefix) and p.is_dir()]
    except OSError:
        return 0
    for path in candidates:
        try:
            pid = int((path / OWNER).read_text().strip())
        except (OSError, ValueError):
            continue  # not one of ours, or still being created
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


WORKER_PREFIXES = ("compat-worker-", "compat-cache-run-")
RAM_TMP = "/dev/shm"
RAM_TMP_MIN_FREE = 1 << 30  # bytes; a container's 64 MB /dev/shm is left alone


def worker_root() -> str | None:
    """Where worker homes go, and with them every cell's instance and sqlite files: a RAM-backed
    temp dir where the system has one with room to spare, unless the user named a temp dir
    (TMPDIR, TEMP, TMP). The storages are still real sqlite files; only the disk's fsyncs go,
    which made two workers wait on each other's sqlite cells (a third longer each with -n 2)."""
    if any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")):
        return None
    try:
        st = os.statvfs(RAM_TMP)
    except OSError:
        return None
    if st.f_bavail * st.f_frsize < RAM_TMP_MIN_FREE or not os.access(RAM_TMP, os.W_OK | os.X_OK):
        return None
    return RAM_TMP


def worker_home() -> Path:
    """A worker's home, under :func:`worker_root`, with the ``tmp`` folder that is the worker's
    TMPDIR: what a killed worker leaves goes with its home, which the next run sweeps."""
    home = make("compat-worker-", worker_root())
    (home / "tmp").mkdir()
    return home


def sweep_stale() -> int:
    """What killed runs left in the temp dirs, removed at the start of every run (a run that
    starts no worker of its own would otherwise never sweep them)."""
    roots = {None, worker_root()}
    return sum(sweep(prefix, root) for prefix in WORKER_PREFIXES for root in roots)


_STOPPING: list[bool] = []  # set by an interrupt's stop_all(final=True)


def track(worker) -> None:
    """A live worker of this run. Once an interrupt stopped the run, a worker that a background
    thread was still starting is stopped at once: the run is about to exit, and that worker, in a
    session of its own, would outlive it with its temp home."""
    with _LOCK:
        if not _STOPPING:
            LIVE.add(worker)
            return
    try:
        worker.kill()
    except Exception:  # noqa: BLE001 - a half-started worker; what matters is that it stops
        pass


def untrack(worker) -> None:
    with _LOCK:
        LIVE.discard(worker)


def stop_all(final: bool = False) -> int:
    """Kill every live worker of this run (each removes its own temp home); how many. ``final``
    (an interrupt): every worker started from now on is stopped as soon as it is tracked."""
    with _LOCK:
        if final:
            _STOPPING.append(True)
        workers = list(LIVE)
    for w in workers:
        try:
            w.kill()
        except Exception:  # noqa: BLE001 - stopping the rest matters more
            pass
    return len(workers)


def run(cmd: list[str], *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """`subprocess.run` in a session of its own whose whole process group dies with it: on a
    timeout or an interrupt, a child that started children of its own (a shell wrapper, a hung
    interpreter's helpers) leaves none of them running. Raises TimeoutExpired like run()."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    if kwargs.pop("capture_output", False):
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with subprocess.Popen(cmd, start_new_session=True, **kwargs) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            _kill_group(proc, leftovers_only=True)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen, leftovers_only: bool = False) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not leftovers_only:
        proc.wait()


_RENAME_EXCHANGE = 2  # linux/fs.h


def exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2 RENAME_EXCHANGE): at every
    instant each path holds one complete tree. False where the system cannot, so the caller
    falls back to two renames."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class Terminated(KeyboardInterrupt):
    """SIGTERM (what CI timeouts send), raised like Ctrl-C so every `finally` runs."""


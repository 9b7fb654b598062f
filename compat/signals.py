"""SIGINT and SIGTERM, from the first instant to the last: one line and exit 130 / 143.

The handlers are installed before the harness is imported (griffe, pydantic and the rest take a
second or two, and a signal then was a traceback, or for SIGTERM a bare -15), and the first
signal turns both into no-ops: a second Ctrl-C while the run stops its workers and removes its
temp dirs would otherwise interrupt that cleanup, print a traceback and leave the temp dirs.
A SIGTERM (what CI timeouts send) is raised like Ctrl-C, as :class:`compat.tempdirs.Terminated`,
so every `finally` runs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import tempfile
import threading

from compat import tempdirs


def _handler(signum, frame):
    raise_for(signum)


def install() -> None:
    """Take SIGINT and SIGTERM in the main thread (elsewhere Python delivers neither)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _handler)
        signal.signal(signal.SIGTERM, _handler)


def raise_for(signum: int):
    """Raise what the handler raises for ``signum``; the cleanup that follows runs to its end."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise tempdirs.Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


@contextlib.contextmanager
def deferred():
    """A SIGINT or SIGTERM in the block is kept, not raised: the list it yields holds the first
    one, which the caller raises (:func:`raise_for`) where an interrupt can be cleaned up after.
    A later one is ignored. Outside the main thread, nothing is deferred."""
    pending: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return

    def keep(signum, frame):
        if not pending:
            pending.append(signum)

    saved = {sig: signal.signal(sig, keep) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield pending
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler if not pending else signal.SIG_IGN)


def name_and_code(exc: BaseException) -> tuple[str, int]:
    return ("SIGTERM", 143) if isinstance(exc, tempdirs.Terminated) else ("SIGINT", 130)


def remove_own_homes() -> None:
    """Remove the worker homes this process made that are still there: a worker a background
    thread was starting when the interrupt came has a home before it is tracked, and so none of
    the stopped workers removes it. Run again at exit, after the last such thread ended."""
    import shutil
    from pathlib import Path

    for root in {tempdirs.worker_root(), None}:
        base = Path(root) if root is not None else Path(tempfile.gettempdir())
        try:
            homes = [p for p in base.iterdir() if p.name.startswith("compat-worker-") and p.is_dir()]
        except OSError:
            continue
        for home in homes:
            try:
                owner = int((home / tempdirs.OWNER).read_text().strip())
            except (OSError, ValueError):
                continue
            if owner == os.getpid():
                shutil.rmtree(home, ignore_errors=True)


def stop_all_final() -> int:
    """Every worker of this run stopped for good and every home it made removed (now and at exit);
    how many workers were stopped."""
    count = tempdirs.stop_all(final=True)
    remove_own_homes()
    if not _AT_EXIT:
        _AT_EXIT.append(True)
        atexit.register(remove_own_homes)
    return count


_AT_EXIT: list[bool] = []


def stopped(exc: BaseException) -> int:
    """Stop this run's workers, remove its temp dirs, say so in one line; the exit code."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    count = stop_all_final()
    name, code = name_and_code(exc)
    print(f"compat: interrupted by {name}; stopped {count} worker(s) and removed this run's temp dirs",
          file=sys.stderr)
    return code

"""SIGINT and SIGTERM, from the first instant to the last: one line and exit 130 / 143.

The handlers are installed before the harness is imported (griffe, pydantic and the rest take a
second or two, and a signal then was a traceback, or for SIGTERM a bare -15), and the first
signal turns both into no-ops: a second Ctrl-C while the run stops its workers and removes its
temp dirs would otherwise interrupt that cleanup, print a traceback and leave the temp dirs.
A SIGTERM (what CI timeouts send) is raised like Ctrl-C, as :class:`compat.tempdirs.Terminated`,
so every `finally` runs.
"""

from __future__ import annotations

import contextlib
import signal
import sys
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


def stopped(exc: BaseException) -> int:
    """Stop this run's workers, remove its temp dirs, say so in one line; the exit code."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    count = tempdirs.stop_all(final=True)
    name, code = name_and_code(exc)
    print(f"compat: interrupted by {name}; stopped {count} worker(s) and removed this run's temp dirs",
          file=sys.stderr)
    return code

"""Progress of the long steps (recording, replaying, fuzzing): a rich bar on a terminal, a few
plain lines elsewhere (CI logs, pipes), nothing with COMPAT_QUIET=1. Always on stderr, so
reports on stdout stay byte-identical."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

QUARTERS = (0.25, 0.5, 0.75)


def _mode() -> str:
    if os.environ.get("COMPAT_QUIET") == "1":
        return "quiet"
    if os.environ.get("CI") or not sys.stderr.isatty():
        return "plain"
    return "bar"


@contextlib.contextmanager
def bar(total: int, what: str) -> Iterator[Callable[[], None]]:
    """`advance()` once per item of `total`; thread-safe."""
    mode = _mode() if total > 1 else "quiet"
    lock = threading.Lock()
    done = [0]
    if mode == "bar":
        with Progress(TextColumn("[compat] {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=Console(stderr=True), transient=True) as prog:
            task = prog.add_task(what, total=total)
            yield lambda: prog.advance(task)
        return
    marks = sorted({max(1, int(total * q)) for q in QUARTERS})

    def advance() -> None:
        with lock:
            done[0] += 1
            if mode == "plain" and done[0] in marks:
                print(f"[compat]   {what}: {done[0]}/{total}", file=sys.stderr, flush=True)

    yield advance

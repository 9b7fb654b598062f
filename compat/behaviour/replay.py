"""Behavioural record and replay: scenario traces recorded on one dagster, replayed on another.

``record`` runs every (subclass, scenario, storage) cell in worker processes of a given
interpreter and writes one canonical trace file per cell under ``<out_dir>/traces/``.
``replay`` runs the same cells on another interpreter and reports, per divergent cell, one
finding for the first divergence: the scenario's own exception, the dispatch sequence to
overridable members (an override that is silently no longer called), a step's result or
exception, or the final storage state. This module runs cells; which cells there are is
:mod:`compat.behaviour.cells`, how two traces of a cell compare is
:mod:`compat.behaviour.compare`, and the rules its findings belong to (each registered in the
one rule registry with a pair of toy traces that ``compare`` reports) are
:mod:`compat.behaviour.replay_rules`. The names most callers use are importable from here.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import threading
from pathlib import Path
from typing import Any, Iterable

from compat import forkserver, progress, tempdirs
from compat.behaviour import reach as reach_mod
from compat.behaviour.cells import CELL_SETS, DEFAULT_CELL_SET, cell_label, plan_cells
from compat.channel import START_TIMEOUT, WorkerProcess
from compat.forkserver import ForkServer
from compat.model import schemas
from compat.model.schemas import trace_filename
from compat.model.errors import CompatError
from compat.model.findings import Finding
from compat.model.jsonio import write_json
# the comparison and its rules (importing them registers the rules), re-exported for their many callers
from compat.behaviour.compare import _finding, compare, divergences, same
from compat.behaviour.replay_rules import RULE_CELL, RULE_DISPATCH, RULE_EXCEPTION, RULE_RESULT, RULE_STATE

DEFAULT_TIMEOUT = 120.0  # seconds per cell
TRACE_INLINE_DEPTH = 2  # one line per dispatch, per result and per state entry


# ---------------------------------------------------------------------------------------------
# worker processes


class Worker(WorkerProcess):
    """One worker interpreter, reused for many cells; every cell still gets a fresh instance."""

    def __init__(self, python: str, start_timeout: float = START_TIMEOUT, reach: bool = False,
                 server: str | None = None) -> None:
        super().__init__(python, MODULE, name="behaviour worker", start_timeout=start_timeout,
                         extra_env=reach_env(reach), server=server)


    def run(self, cell: dict[str, str], timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        return self.run_reply(cell, timeout)["trace"]

    def run_reply(self, cell: dict[str, str], timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The whole reply: the trace, and while recording the lines the cell ran."""
        return self.request(cell, timeout, f"cell {cell_label(cell)}")


MODULE = "compat.behaviour.worker"


def reach_env(reach: bool) -> dict[str, str] | None:
    return {"COMPAT_REACH": "1"} if reach else None


def fork_server(python: str, jobs: int, reach: bool = False, home: Path | None = None) -> ForkServer | None:
    """One warmed interpreter the ``jobs`` workers fork from, when there are several of them and
    this system can fork (under coverage.py each worker measures itself: no server)."""
    if jobs < 2 or not forkserver.usable() or os.environ.get("COMPAT_COVERAGE_DATA"):
        return None
    return ForkServer(python, MODULE, name="behaviour worker", extra_env=reach_env(reach), home=home)


def merge_lines(into: dict[str, list[int]], lines: dict[str, list[int]]) -> None:
    for rel, nums in lines.items():
        into[rel] = sorted(set(into.get(rel, ())) | set(nums))


def run_cells(python: str, cells: list[dict[str, str]], *, jobs: int = 1,
              timeout: float = DEFAULT_TIMEOUT, what: str = "behaviour cells",
              reach: dict[str, Any] | None = None, server: ForkServer | None = None) -> list[dict[str, Any]]:
    """Traces for the cells (same order), using up to ``jobs`` worker processes. With ``reach``
    (a dict), also the lines of dagster each cell ran (``reach["cells"]``, in cell order) and
    what the workers ran while starting (``reach["startup"]``). ``server``: a fork server of
    ``python`` the caller started (and closes) for the workers to fork from; else one is started
    for these cells when there are several workers."""
    if not cells:
        return []
    jobs = max(1, min(int(jobs), len(cells)))
    # while recording what cells execute, worker k runs cells k, k + jobs, ...: a cell's lazy
    # imports then fall in the same cell on every recording, so the reach map is reproducible
    queues: list[queue.Queue] = [queue.Queue() for _ in range(jobs if reach is not None else 1)]
    for i, cell in enumerate(cells):
        queues[i % len(queues)].put((i, cell))
    results: list[Any] = [None] * len(cells)
    errors: list[BaseException] = []
    stop = threading.Event()

    lines: list[Any] = [None] * len(cells)
    startup: dict[str, list[int]] = {}
    touched: dict[str, list[str]] = {}
    merging = threading.Lock()

    def drive(todo: queue.Queue) -> None:
        worker = None
        try:
            worker = Worker(python, reach=reach is not None, server=server.path if server is not None else None)
            if reach is not None:
                with merging:
                    merge_lines(startup, worker.hello.get("reach") or {})
                    reach_mod.merge_touches(touched, worker.hello.get("touched"))
            while not stop.is_set():
                try:
                    i, cell = todo.get_nowait()
                except queue.Empty:
                    return
                reply = worker.run_reply(cell, timeout)
                results[i] = reply["trace"]
                lines[i] = reply.get("reach") or {}
                if reach is not None:
                    with merging:
                        reach_mod.merge_touches(touched, reply.get("touched"))
                advance()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)
            stop.set()
        finally:
            if worker is not None:
                worker.close()

    threads = [threading.Thread(target=drive, args=(queues[k % len(queues)],), daemon=True) for k in range(jobs)]
    own = server is None
    if own:
        server = fork_server(python, jobs, reach is not None)
    try:
        with progress.bar(len(cells), what) as advance:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        if own and server is not None:
            server.close()
    if errors:
        err = errors[0]
        if isinstance(err, CompatError):
            raise err
        raise CompatError(f"behaviour run on {python} failed: {type(err).__name__}: {err}")
    if reach is not None:
        reach["cells"], reach["startup"], reach["touched"] = lines, startup, touched
    return results


# ---------------------------------------------------------------------------------------------
# record / replay


def record(python: str, out_dir: str, subclasses=None, scenarios=None, *, storages=None, jobs: int = 1,
           timeout: float = DEFAULT_TIMEOUT, cell_set: str = DEFAULT_CELL_SET,
           reach: dict[str, Any] | None = None) -> list[Path]:
    """Record one trace file per cell under ``out_dir/traces/``; returns the written paths.
    With ``reach`` (a dict), also the lines each cell ran, by trace stem (``reach["cells"]``),
    and the workers' start-up lines (``reach["startup"]``)."""
    cells = plan_cells(subclasses, scenarios, storages, cell_set)
    collected: dict[str, Any] | None = {} if reach is not None else None
    traces = run_cells(python, cells, jobs=jobs, timeout=timeout, what="recording cells", reach=collected)
    if reach is not None and collected is not None:
        reach["startup"], reach["touched"] = collected["startup"], collected["touched"]
        reach["cells"] = {trace_filename(c)[:-5]: lines for c, lines in zip(cells, collected["cells"])}
    out = Path(out_dir) / "traces"
    paths = []
    for cell, trace in zip(cells, traces):
        paths.append(write_json(out / trace_filename(cell), trace, TRACE_INLINE_DEPTH))
    return sorted(paths)


def load_baseline(baseline_dir: str, only: Iterable[str] | None = None, *,
                  dagster: str | None = None) -> list[dict[str, Any]]:
    """The recorded traces (``only``: of these trace stems), validated (``dagster``: each must be
    of the release the baseline was recorded on)."""
    tdir = Path(baseline_dir) / "traces"
    if not tdir.is_dir():
        raise CompatError(f"{baseline_dir}: no traces/ directory; record a baseline first")
    files = sorted(tdir.glob("*.json"))
    if not files:
        raise CompatError(f"{tdir}: no trace files; record a baseline first")
    if only is not None:
        wanted = set(only)
        files = [f for f in files if f.stem in wanted]
    return [schemas.read_trace(f, dagster=dagster) for f in files]


_IMPORT_PROBE = """
import importlib, json, os, sys, traceback
module, name = sys.argv[1], sys.argv[2]
try:
    getattr(importlib.import_module(module), name)
except BaseException as e:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if not f.filename.startswith("<")]
    last = frames[-1] if frames else None
    failed = None
    if last is not None:
        path = os.path.abspath(last.filename)
        for root in sorted((os.path.abspath(p) for p in sys.path if p), key=len, reverse=True):
            if path.startswith(root + os.sep):
                failed = os.path.relpath(path, root)[:-3].replace(os.sep, ".").removesuffix(".__init__")
                break
    print(json.dumps({"exception": f"{type(e).__name__}: {e}", "module": failed,
                      "line": last.lineno if last is not None else None}))
else:
    print(json.dumps({"imported": True}))
"""


def import_failure(python: str, target: str, *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any] | None:
    """How importing ``target`` ("module:Class") fails on ``python``: the exception, the module
    whose code raised it (for a dropped re-export, the module with the failing import
    statement) and the line; None when it imports."""
    module, _, name = target.partition(":")
    try:
        proc = tempdirs.run([python, "-c", _IMPORT_PROBE, module, name.split(".")[0]], capture_output=True,
                            text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CompatError(f"importing {target} with {python} hung for {timeout:g}s") from None
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"exception": lines[-1] if lines else f"exit {proc.returncode}", "module": None, "line": None}
    last = proc.stdout.strip().splitlines()[-1:] or [""]
    try:
        error = json.loads(last[0])
    except ValueError:
        error = None
    if not isinstance(error, dict):  # an import that ended the interpreter itself (os._exit(0)) says nothing
        return {"exception": f"the interpreter exited with code 0 while importing {module}",
                "module": None, "line": None}
    if error.get("imported") is True:
        return None
    # ImportError messages end with the file of the module they name: not part of the change
    error["exception"] = re.sub(r" \((/|[A-Za-z]:\\)[^()]*\)$", "", error["exception"])
    return error



def replay(baseline_dir: str, python: str, *, jobs: int = 1, timeout: float = DEFAULT_TIMEOUT,
           keep_dir: str | None = None, only: Iterable[str] | None = None,
           server: ForkServer | None = None, dagster: str | None = None) -> list[Finding]:
    """Replay the recorded cells on ``python``; one finding per divergent cell.

    ``only``: the trace stems to replay (what :func:`compat.behaviour.selection.select` picked); the
    others keep their recorded verdict. ``keep_dir``: also write the replayed traces there (same
    layout as a baseline), so that they can be inspected or compared again with ``compare_dirs``
    without re-running. ``server``: a fork server the caller started for the workers.
    ``dagster``: the release the baseline was recorded on, which every trace must say it was
    recorded on.
    """
    baseline = load_baseline(baseline_dir, only, dagster=dagster)
    cells = [dict(t["cell"]) for t in baseline]
    new = run_cells(python, cells, jobs=jobs, timeout=timeout, what="replaying cells", server=server)
    if keep_dir is not None:
        for cell, trace in zip(cells, new):
            write_json(Path(keep_dir) / "traces" / trace_filename(cell), trace, TRACE_INLINE_DEPTH)
    return _compare_all(baseline, new)


def compare_dirs(old_dir: str, new_dir: str) -> list[Finding]:
    """Compare two recorded trace directories cell by cell (cells missing on the new side are
    cell errors)."""
    old = load_baseline(old_dir)
    new_by_name = {trace_filename(t["cell"]): t for t in load_baseline(new_dir)}
    news = []
    for t in old:
        other = new_by_name.get(trace_filename(t["cell"]))
        if other is None:
            other = {**t, "cell_error": "cell not recorded on the new side"}
        news.append(other)
    return _compare_all(old, news)


def _compare_all(old: list[dict], new: list[dict]) -> list[Finding]:
    findings = []
    for old_trace, new_trace in zip(old, new):
        findings += divergences(old_trace, new_trace)
    return findings

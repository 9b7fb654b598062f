"""Behavioural record and replay: scenario traces recorded on one dagster, replayed on another.

``record`` runs every (subclass, scenario, storage) cell in worker processes of a given
interpreter and writes one canonical trace file per cell under ``<out_dir>/traces/``.
``replay`` runs the same cells on another interpreter and reports, per divergent cell, one
finding for the first divergence: the scenario's own exception, the dispatch sequence to
overridable members (an override that is silently no longer called), a step's result or
exception, or the final storage state. Each of those is a rule registered here in the one rule
registry (:mod:`compat.rules.registry`), with a pair of toy traces that ``compare`` reports.
"""

from __future__ import annotations

import difflib
import json
import os
import queue
import re
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from compat import corpus, forkserver, progress, tempdirs
from compat.behaviour import reach as reach_mod
from compat.behaviour.scenarios import ATTRIBUTES_AT_START, SCENARIOS, names
from compat.channel import START_TIMEOUT, WorkerProcess
from compat.forkserver import ForkServer
from compat.model import schemas
from compat.model.schemas import trace_filename
from compat.model.errors import CompatError
from compat.model.findings import BOTH, BREAKING, SUBCLASSES, WARNING, Finding
from compat.model.jsonio import write_json
from compat.model.trace import TRUNCATED, dispatch_key, trace_at
from compat.rules.registry import BEHAVIOUR, Fixture, Rule, register

DEFAULT_TIMEOUT = 120.0  # seconds per cell
TRACE_INLINE_DEPTH = 2  # one line per dispatch, per result and per state entry

def _toy_trace(result: dict | None = None, *, state: dict | None = None, dispatch: list | None = None,
               spied: list[str] | None = None, cell_error: str | None = None, version: int = 1,
               warnings: dict | None = None, identity: dict | None = None,
               forwarded: list | None = None, attributes: dict | None = None) -> dict[str, Any]:
    """A minimal trace of one cell, as a rule fixture: what record writes, cut to what compare reads."""
    result = result or {}
    meta: dict[str, Any] = {"steps": list(result)}
    if spied is not None:
        meta["spied_members"] = spied
    trace = {"cell": {"subclass": "spy:create-run-tags", "scenario": "runs_lifecycle", "storage": "memory"},
             "cell_error": cell_error, "exception": None, "dispatch": dispatch or [], "meta": meta,
             "result": result, "state": state or {}}
    if version > 1:  # what version 2 added (a trace without a version is a version-1 trace)
        trace.update({"schema_version": version, "warnings": warnings, "identity": identity, "forwarded": forwarded,
                      "attributes": attributes})
    return trace


def _dispatch(member: str, caller: str, caller_class: str = "DagsterInstance", via: str = "self",
              **kwargs: str) -> dict[str, Any]:
    return {"args": [], "caller": caller, "caller_class": caller_class, "kind": "call", "kwargs": kwargs,
            "member": member, "n": 1, "via": via}


_CREATE = _dispatch("create_run_for_job", "step", "Ctx", via="external", tags="dict")
_CREATE_RUN = _dispatch("create_run", "create_run_for_job", tags="dict", status="NoneType")
_SPIED = ["create_run", "create_run_for_job"]
_STATUS = {"create_run_for_job": {"status": "NOT_STARTED", "tags": {"corpus/origin": "create-run-tags"}}}
_RAISES = {"get_run_by_id": {"__exception__": {"type": "DagsterRunNotFoundError", "message": "run 'x' not found"}}}

# One finding per divergent cell, for its first divergence, in this order: the cell's set-up,
# the scenario's own exception, the dispatches, the step results, the final state.
RULE_CELL = register(
    id="behaviour-cell-error",
    cause="cell-error",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="The cell could not run at all on the new side, or its set-up outcome changed.",
    explanation="""
        The subclass cannot be built on the new dagster (its `__init__` or the base's raises, a
        hook it needs is gone), or the worker crashed or hung running the cell. Whoever deploys
        that subclass on the new version fails at start-up, before any scenario runs.
    """,
    fix="Make the subclass constructible on the new base again: the finding shows the error the cell's set-up raised.",
    fixture=Fixture(_toy_trace(_STATUS), _toy_trace(_STATUS, cell_error=(
        "TypeError: DagsterInstance.__init__() got an unexpected keyword argument 'settings_path'"))),
    near_miss=Fixture(
        _toy_trace(_STATUS, cell_error="ImportError: no module named 'dagster_cloud'"),
        _toy_trace(_STATUS, cell_error="ImportError: no module named 'dagster_cloud'"),
        about="the cell fails the same way on both sides: a set-up problem of the recording, not a change"),
)
RULE_IMPORT = register(
    id="target-import-failed",
    cause="cell-error",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="The new side cannot even import the target's module (a dropped re-export, a missing module).",
    explanation="""
        `import dagster` (or the target's module) raises on the new version: every caller and every
        subclass fails at start-up. No behaviour cell can run, so none is replayed; the finding
        carries the exception and the module whose import statement failed, and the static
        findings are still reported beside it.
    """,
    fix="Restore the name the failing module imports (keep the re-export), or update the import in that module.",
    fixture=Fixture(_toy_trace(_STATUS), {**_toy_trace(_STATUS), "import_error": {
        "exception": "ImportError: cannot import name 'InstanceRef' from 'dagster._core.instance'",
        "module": "dagster._core.storage.root", "line": 12}}),
    near_miss=Fixture(
        _toy_trace(_STATUS, cell_error="ImportError: no module named 'dagster_cloud'"),
        _toy_trace(_STATUS, cell_error="ImportError: no module named 'dagster_cloud'"),
        about="a cell's own set-up fails the same way on both sides; the target itself imports"),
)
RULE_EXCEPTION = register(
    id="behaviour-exception-changed",
    cause="exception",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="A step raises another exception type, raises where it did not, or no longer raises.",
    explanation="""
        Callers that catch the old exception type (or rely on the call succeeding) now see another
        outcome for the same calls: an `except DagsterRunNotFoundError` no longer catches, a call
        that used to fail loudly now returns something. Subclass overrides built on `super()`
        propagate the change.
    """,
    severity_note=(
        "A warning when only the message changed under the same exception type (callers catching by type "
        "see no change); a later result or state change in the same cell is then the cell's finding."),
    fix="Raise the old exception type for the same input (subclass it if you need a new type), or keep returning normally.",
    fixture=Fixture(_toy_trace(_RAISES), _toy_trace({"get_run_by_id": None})),
    near_miss=Fixture(
        _toy_trace(_RAISES),
        _toy_trace({"get_run_by_id": {"__exception__": {**_RAISES["get_run_by_id"]["__exception__"], "notes": None}}}),
        about="the exception gains an optional field with no value (a newer serializer): the same exception"),
)
RULE_DISPATCH = register(
    id="behaviour-dispatch-changed",
    cause="dispatch",
    severity=BREAKING,
    audience=SUBCLASSES,
    layer=BEHAVIOUR,
    family="replay",
    summary="The sequence of dispatches to overridable members differs.",
    explanation="""
        A member the base used to call through `self` is no longer called (a subclass override
        is silently ignored), is newly called (an override now runs where it did not), is called
        with other arguments (an override's signature may not accept them), or in another order.
        The subclass that overrides it behaves differently without any error. The first change
        is shown with the dispatches around it.
    """,
    fix="Keep calling `self.<member>(...)` with the same arguments where the old base did, so overrides keep running.",
    fixture=Fixture(_toy_trace(_STATUS, dispatch=[_CREATE, _CREATE_RUN], spied=_SPIED),
                    _toy_trace(_STATUS, dispatch=[_CREATE], spied=_SPIED)),
    near_miss=Fixture(
        _toy_trace(_STATUS, dispatch=[_CREATE, _CREATE_RUN], spied=_SPIED),
        _toy_trace(_STATUS, dispatch=[_CREATE, _dispatch("_run_domain", "create_run_for_job"), _CREATE_RUN],
                   spied=_SPIED + ["_run_domain"]),
        about="the new base also calls a member the old class did not have: no subclass overrides it, so it "
              "is not compared"),
)
RULE_RESULT = register(
    id="behaviour-result-changed",
    cause="result",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="A scenario step returned a different (normalized) value.",
    explanation="""
        Callers get another value for the same calls on the same storage (other tags, another
        status, a list in another order), and so do subclass overrides that build on `super()`;
        code relying on the old value computes something else, usually without an error.
    """,
    fix="Return what the old version returned for the same calls (the finding names the step and the first differing path).",
    fixture=Fixture(_toy_trace(_STATUS), _toy_trace({"create_run_for_job": {"status": "NOT_STARTED", "tags": {}}})),
    near_miss=Fixture(
        _toy_trace(_STATUS),
        _toy_trace({"create_run_for_job": {**_STATUS["create_run_for_job"], "run_op_concurrency": None}}),
        about="the value gains a field with no value (an optional field a newer serializer adds): the same value"),
)
RULE_STATE = register(
    id="behaviour-state-changed",
    cause="state",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="The final storage state of the scenario differs.",
    explanation="""
        The scenario's calls leave other runs, events, assets, partitions, instigators, backfills
        or heartbeats in storage: whoever reads them later (the UI, daemons, the next call of a
        caller or of a subclass) sees another history.
    """,
    fix="Write to storage what the old version wrote for the same calls (the finding names the first differing path).",
    fixture=Fixture(_toy_trace(_STATUS, state={"runs": [{"status": "SUCCESS", "tags": {"team": "1"}}]}),
                    _toy_trace(_STATUS, state={"runs": [{"status": "SUCCESS", "tags": {}}]})),
    near_miss=Fixture(
        _toy_trace(_STATUS, state={"runs": [{"status": "SUCCESS", "tags": {"team": "1"}}]}),
        _toy_trace(_STATUS, state={"runs": [{"status": "SUCCESS", "tags": {"team": "1"}}], "defs_state": None}),
        about="the state gains an entry with no value (storage the old version did not have): the same state"),
)

_DEPRECATED = {"get_run_by_id": [["DeprecationWarning", "get_run_by_id is deprecated"]]}
RULE_WARNING = register(
    id="behaviour-warnings-changed",
    cause="warning",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="A step emits a warning of a category it did not emit before.",
    explanation="""
        The same calls now emit another warning (a `DeprecationWarning`, a `UserWarning`): under
        `-W error` or a pytest `filterwarnings = error`, as many test suites of deployments and
        subclasses run, the call now raises; elsewhere logs fill with a warning nobody asked for.
        Every warning a step emits is recorded (category and message, in order, with every filter
        set to "always"), except `ResourceWarning`, which finalizers emit whenever the collector
        runs.
    """,
    severity_note=(
        "A warning when a step no longer emits a warning or emits the same categories with other "
        "messages: nothing that ran before fails now."),
    fix="Do not emit the new warning for calls that were fine before (or emit it only on the path being deprecated).",
    fixture=Fixture(_toy_trace(_STATUS, version=2),
                    _toy_trace(_STATUS, version=2, warnings={"create_run_for_job": _DEPRECATED["get_run_by_id"]})),
    near_miss=Fixture(
        _toy_trace(_STATUS),
        _toy_trace(_STATUS, version=2, warnings={"create_run_for_job": _DEPRECATED["get_run_by_id"]}),
        about="the old trace was recorded before warnings were (version 1): compared at its fidelity, no "
              "warning is invented"),
)

_BUCKET = {"__type__": "TagBucket", "bucket_limit": 1, "tag_key": "team", "tag_values": ["a"]}
_FILTER = {"__type__": "RunsFilter", "job_name": "args_job", "tags": {}}
RULE_FORWARDED = register(
    id="behaviour-forwarding-changed",
    cause="dispatch",
    severity=BREAKING,
    audience=SUBCLASSES,
    layer=BEHAVIOUR,
    family="replay",
    summary="The instance forwards other calls, or other arguments, to a custom storage.",
    explanation="""
        dagster-cloud's storages are custom subclasses of dagster's storage classes that send each
        call over an API; what the instance passes them (a `bucket_by`, a filter, a limit, a cursor,
        `ascending`) is their contract even where dagster's sqlite storages ignore it. The corpus's
        `forwarding-storages` instance wraps its storages the same way and notes every call; a
        call now made with other arguments, no longer made, or newly made, is what such a storage
        sees change: a dropped `bucket_by` returns every run instead of one per bucket.
    """,
    fix="Forward the same arguments to the storage as before (the finding shows the call on both sides).",
    fixture=Fixture(
        _toy_trace(_STATUS, version=2, forwarded=[["run_storage", "get_runs", [None, None, None, _BUCKET, False], {}]]),
        _toy_trace(_STATUS, version=2, forwarded=[["run_storage", "get_runs", [None, None, None, None, False], {}]])),
    near_miss=Fixture(
        _toy_trace(_STATUS, version=2, forwarded=[["run_storage", "get_run_records", [_FILTER], {}]]),
        _toy_trace(_STATUS, version=2, forwarded=[["run_storage", "get_run_records",
                                                   [{**_FILTER, "exclude_subruns": None}], {}]]),
        about="the filter gains a field left at None (a newer dagster's RunsFilter): the same query"),
)

RULE_ATTRIBUTES = register(
    id="behaviour-attributes-changed",
    cause="attribute",
    severity=BREAKING,
    audience=SUBCLASSES,
    layer=BEHAVIOUR,
    family="replay",
    summary="An instance attribute is set (or deleted) by another step than before, or no longer.",
    explanation="""
        The attributes of the instance are compared after every step, not only after `__init__`:
        an attribute the base used to assign in `__init__` and now assigns lazily, on first use,
        is missing when a subclass override reads it before that use (from its own `__init__`,
        from a hook the base calls early); one now deleted on `dispose` or `wipe` is gone for an
        override that runs afterwards.
    """,
    fix="Keep assigning the attribute where the old base did (in `__init__`, before any override runs).",
    fixture=Fixture(_toy_trace(_STATUS, version=2, attributes={"(start)": {"present": ["_run_domain"]}}),
                    _toy_trace(_STATUS, version=2, attributes={"(start)": {"present": []},
                                                               "create_run_for_job": {"added": ["_run_domain"]}})),
    near_miss=Fixture(
        _toy_trace(_STATUS, version=2, attributes={"(start)": {"present": []}}),
        _toy_trace(_STATUS, version=2, attributes={"(start)": {"present": []},
                                                   "create_run_for_job": {"added": ["run_domain"]}}),
        about="the new base sets an attribute the old one never had, lazily: no subclass could read it before"),
)


# ---------------------------------------------------------------------------------------------
# cells


def cell_label(cell: dict[str, str]) -> str:
    return f"{cell['subclass']}/{cell['scenario']}/{cell['storage']}"


def _corpus_names() -> list[str]:
    try:
        return sorted(corpus.CORPUS)
    except (ImportError, AttributeError):
        return ["base"]


def default_subclasses() -> list[str]:
    """Every corpus subclass, a spy on the plain class, and a spy on top of each corpus class."""
    names = _corpus_names()
    return list(names) + ["spy"] + [f"spy:{n}" for n in names if n != "base"]


# Named cell sets. "full" is every subclass on every scenario and storage (about 2,200 cells,
# minutes). "gate" keeps what a pre-merge gate needs in well under a minute: a spy on top of
# each corpus class runs that class's overrides through super() and also records every
# dispatch, so the plain corpus cells add nothing it would miss; those run on in-memory
# storage, and the plain spy alone covers every scenario on sqlite as well. "spy" is that plain
# spy alone (every dispatch of the base to an overridable member, results and state, on every
# scenario and storage, but no corpus override runs): a tenth of the gate's cells, for long
# release histories.
CELL_SETS = ("gate", "full", "spy")
DEFAULT_CELL_SET = "gate"


def plan_cells(subclasses: Iterable[str] | None = None, scenarios: Iterable[str] | None = None,
               storages: Iterable[str] | None = None, cell_set: str = DEFAULT_CELL_SET) -> list[dict[str, str]]:
    """The cells to run; explicit ``subclasses``/``storages`` override the cell set's choice."""

    if cell_set not in CELL_SETS:
        raise CompatError(f"unknown cell set {cell_set!r}; known: {', '.join(CELL_SETS)}")
    try:
        chosen = names(list(scenarios) if scenarios else None)
    except KeyError as exc:
        raise CompatError(str(exc.args[0])) from None
    if subclasses:
        subs = list(subclasses)
    elif cell_set == "full":
        subs = default_subclasses()
    elif cell_set == "spy":
        subs = ["spy"]
    else:
        subs = ["spy"] + [f"spy:{n}" for n in _corpus_names() if n != "base"]
    wanted = set(storages) if storages else None
    gate_set = not subclasses and cell_set == "gate"

    def keep(sub: str, storage: str) -> bool:
        if wanted is not None:
            return storage in wanted
        return not gate_set or sub == "spy" or storage == "memory"  # the gate: corpus spies in memory

    return [{"subclass": sub, "scenario": name, "storage": storage}
            for sub in subs for name in chosen for storage in SCENARIOS[name].storages if keep(sub, storage)]


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


_MISSING_NAME = re.compile(r"cannot import name '([\w.]+)' from '([\w.]+)'")


def missing_import(text: str | None) -> tuple[str, str] | None:
    """(name, module) when `text` is the ImportError of a name a module no longer exports."""
    m = _MISSING_NAME.search(text or "")
    return (m.group(1), m.group(2)) if m else None


def import_finding(error: dict[str, Any], cell: dict[str, Any] | None = None) -> Finding:
    """The finding for a target that no longer imports (``error`` as :func:`import_failure` gives it).
    A name its module no longer exports is named in the details, so that the finding joins the
    cause of that export's removal."""
    missing = missing_import(error["exception"])
    where = (error["module"] + (f" (line {error['line']})" if error.get("line") else "") + ": ") if error.get("module") else ""
    return RULE_IMPORT.finding(
        "<import>", f"the target no longer imports on the new side: {where}{error['exception']}",
        old="imports", new=f"{where}{error['exception']}",
        details={"exception": error["exception"], "module": error.get("module"), "line": error.get("line"),
                 **({"missing_name": missing[0], "from_module": missing[1]} if missing else {}),
                 **({"cell": dict(cell)} if cell else {})})


def replay(baseline_dir: str, python: str, *, jobs: int = 1, timeout: float = DEFAULT_TIMEOUT,
           keep_dir: str | None = None, only: Iterable[str] | None = None,
           server: ForkServer | None = None, dagster: str | None = None) -> list[Finding]:
    """Replay the recorded cells on ``python``; one finding per divergent cell.

    ``only``: the trace stems to replay (what :func:`compat.behaviour.reach.select` picked); the
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


# ---------------------------------------------------------------------------------------------
# comparison


def _short(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _finding(rule: Rule, cell: dict, message: str, old: str | None, new: str | None, audience: str | None = None,
             severity: str | None = None, **details: Any) -> Finding:
    """A finding of a behaviour rule on one cell; severity and audience are the rule's unless given."""
    return rule.finding(cell_label(cell), message, severity=severity, audience=audience, old=old, new=new,
                        details={"cell": dict(cell), **details})


def same(o: Any, n: Any) -> bool:
    """Equality of two normalized JSON values, where a mapping key present on one side only
    with a null value (an optional field a newer serializer adds) does not count."""
    if isinstance(o, dict) and isinstance(n, dict):
        for k in set(o) | set(n):
            if k not in o:
                if n[k] is not None:
                    return False
            elif k not in n:
                if o[k] is not None:
                    return False
            elif not same(o[k], n[k]):
                return False
        return True
    if isinstance(o, list) and isinstance(n, list):
        return len(o) == len(n) and all(same(a, b) for a, b in zip(o, n))
    if isinstance(o, str) and isinstance(n, str) and (o.endswith(TRUNCATED) or n.endswith(TRUNCATED)):
        return _same_truncated(o, n)
    return o == n


def _same_truncated(o: str, n: str) -> bool:
    """Baselines recorded before long strings were cut after normalizing cut them before their
    temp paths became `<tmp>`, where the temp dir's length said: two cut strings agree when they
    agree as far as both are known."""
    ko, kn = o.removesuffix(TRUNCATED), n.removesuffix(TRUNCATED)
    k = min(len(ko), len(kn)) if o.endswith(TRUNCATED) and n.endswith(TRUNCATED) else \
        len(ko) if o.endswith(TRUNCATED) else len(kn)
    # a cut inside a temp path leaves that word unnormalized: compare up to the word before it
    b = min(ko[:k].rfind(" "), kn[:k].rfind(" "))
    return ko[:b] == kn[:b] if b >= 0 else True


def _is_exc(v: Any) -> bool:
    return isinstance(v, dict) and "__exception__" in v


def divergences(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    """Every divergence of a cell, the first (:func:`compare`'s) first: a cell whose dispatches
    change in two places (1.11.5's `wipe_assets` forwarding `report_dagster_event` other
    arguments, behind a lost dispatch) shows both causes. A cell that no longer runs, or whose
    scenario raises another exception, has nothing further to compare."""
    return [_with_member(f, old) for f in _divergences(old, new)]


def _with_member(f: Finding, old: dict) -> Finding:
    """A step's finding names the instance member the step calls when its label does not (the
    worker records them under `meta.calls`): titles then say `get_required_daemon_types`, not
    the step id `required`."""
    step = (f.details or {}).get("step")
    called = ((old.get("meta") or {}).get("calls") or {}).get(step) if step else None
    if isinstance(called, str):
        f.details["called"] = called
    return f


def _divergences(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    first = compare(old, new)
    if first is None or first.rule in (RULE_IMPORT.id, RULE_CELL.id) or (
            first.rule == RULE_EXCEPTION.id and first.details.get("step") is None):
        return [first] if first is not None else []
    version = min(old.get("schema_version", 1), new.get("schema_version", 1))
    old, new = trace_at(old, version), trace_at(new, version)
    more = _dispatch_divergences(old, new)
    for f in (_compare_forwarded(old, new), _compare_result(old, new), _compare_identity(old, new),
              _compare_warnings(old, new), _compare_attributes(old, new)):
        if f is not None and f.severity == BREAKING:
            more.append(f)
    if not same(old.get("state"), new.get("state")):
        more.append(_state_finding(old, new))
    out, keys = [first], {_divergence_key(first)}
    for f in more:
        if _divergence_key(f) not in keys:
            keys.add(_divergence_key(f))
            out.append(f)
    return out


def _divergence_key(f: Finding) -> tuple:
    d = f.details or {}
    return (f.rule, d.get("change"), d.get("member_name"), d.get("step"), d.get("path"))


def compare(old: dict[str, Any], new: dict[str, Any]) -> Finding | None:
    """The first divergence between two traces of the same cell, or None. Two traces of other
    versions are compared at the older one's fidelity (:func:`compat.model.trace.trace_at`)."""
    version = min(old.get("schema_version", 1), new.get("schema_version", 1))
    old, new = trace_at(old, version), trace_at(new, version)
    cell = old["cell"]
    label = cell_label(cell)
    if new.get("import_error") and not old.get("import_error"):
        return import_finding(new["import_error"], cell)
    if new.get("cell_error") and not old.get("cell_error"):
        return _finding(RULE_CELL, cell, f"{label}: the cell no longer runs: {new['cell_error']}",
                        "cell ran", new["cell_error"])
    if old.get("cell_error") != new.get("cell_error"):
        return _finding(RULE_CELL, cell, f"{label}: the cell's set-up outcome changed",
                        old.get("cell_error") or "cell ran", new.get("cell_error") or "cell ran")
    if old.get("exception") != new.get("exception"):
        return _finding(RULE_EXCEPTION, cell, f"{label}: the scenario's exception changed",
                        _short(old.get("exception")), _short(new.get("exception")), step=None,
                        old_type=_scenario_exc_type(old.get("exception")),
                        new_type=_scenario_exc_type(new.get("exception")))
    f = _compare_dispatch(old, new) or _compare_forwarded(old, new)
    if f is not None:
        return f
    f = _compare_result(old, new)
    if f is not None and f.severity == BREAKING:
        return f
    f = _compare_identity(old, new) or f
    if f is not None and f.severity == BREAKING:
        return f
    w = _compare_warnings(old, new)
    if w is not None and w.severity == BREAKING:
        return w
    a = _compare_attributes(old, new)
    if a is not None:
        return a
    f = f or w
    if not same(old.get("state"), new.get("state")):
        return _state_finding(old, new)
    return f  # None, or a message-only exception change (a warning)


def _state_finding(old: dict, new: dict) -> Finding:
    """The first place the final storage states differ; `gained` when every difference is
    something the new state holds in addition (a key or tag the old one lacked), nothing changed."""
    path, o, n = _first_diff(old.get("state"), new.get("state"), "state")
    return _finding(RULE_STATE, old["cell"], f"{cell_label(old['cell'])}: final storage state differs at {path}",
                    _short(o), _short(n), path=path, gained=_only_gains(old.get("state"), new.get("state")))


def _only_gains(o: Any, n: Any) -> bool:
    """`n` is `o` with mappings that hold more keys, and nothing else differs."""
    if isinstance(o, dict) and isinstance(n, dict):
        return all(k in n and (same(v, n[k]) or _only_gains(v, n[k])) for k, v in o.items() if v is not None)
    if isinstance(o, list) and isinstance(n, list) and len(o) == len(n):
        return all(same(a, b) or _only_gains(a, b) for a, b in zip(o, n))
    return False


def _compare_result(old: dict, new: dict) -> Finding | None:
    cell = old["cell"]
    label = cell_label(cell)
    o_res, n_res = old.get("result"), new.get("result")
    if same(o_res, n_res):
        return None
    if isinstance(o_res, dict) and isinstance(n_res, dict):
        order = list(old.get("meta", {}).get("steps") or []) + sorted(set(o_res) | set(n_res))
        seen = set()
        warning = None  # the first message-only exception change; a later real change wins
        for step in order:
            if step in seen:
                continue
            seen.add(step)
            missing = object()
            o, n = o_res.get(step, missing), n_res.get(step, missing)
            if o is not missing and n is not missing and same(o, n):
                continue
            o_text = "<missing step>" if o is missing else _short(o)
            n_text = "<missing step>" if n is missing else _short(n)
            if (o is not missing and _is_exc(o)) or (n is not missing and _is_exc(n)):
                what = _describe_exc_change(o, n, missing)
                # the exception types on both sides (None: the step returned), for the severity policy
                types = {"old_type": _exc_type(o), "new_type": _exc_type(n)}
                if _is_exc(o) and _is_exc(n) and o["__exception__"]["type"] == n["__exception__"]["type"]:
                    # same exception type, reworded message: callers catching by type see no change
                    warning = warning or _finding(RULE_EXCEPTION, cell, f"{label}: step {step!r} {what}", o_text,
                                                  n_text, severity=WARNING, step=step, **types)
                    continue
                return _finding(RULE_EXCEPTION, cell, f"{label}: step {step!r} {what}", o_text, n_text, step=step,
                                **types)
            path, po, pn = _first_diff(o, n, step)
            return _finding(RULE_RESULT, cell, f"{label}: step {step!r} returned a different value (at {path})",
                            o_text, n_text, step=step, path=path)
        return warning
    path, po, pn = _first_diff(o_res, n_res, "result")
    return _finding(RULE_RESULT, cell, f"{label}: the scenario result differs at {path}", _short(po), _short(pn),
                    path=path)


def _scenario_exc_type(e: Any) -> str | None:
    """The type of a scenario's own exception: a mapping in version-2 traces, "Type: message" before."""
    if isinstance(e, dict):
        return e.get("type")
    return str(e).split(":", 1)[0].strip() or None if e else None


def _exc_type(v: Any) -> str | None:
    return v["__exception__"]["type"] if _is_exc(v) else None


def _step_order(old: dict, keys: Iterable[str]) -> list[str]:
    """Steps in the order the scenario ran them, then any other key by name."""
    steps = list(old.get("meta", {}).get("steps") or [])
    return list(dict.fromkeys(steps + sorted(keys)))


def _identity_text(entry: dict | None) -> str:
    if not entry:
        return "a new object"
    if "same_as" in entry:
        return f"the same object as step {entry['same_as']!r}"
    return "an object the instance holds (not a copy)"


def _compare_identity(old: dict, new: dict) -> Finding | None:
    """A step whose value is now (or no longer) an object an earlier step returned or the
    instance holds: a caller that mutates what it got now changes (or no longer changes) that."""
    o_id, n_id = old.get("identity") or {}, new.get("identity") or {}
    if o_id == n_id:
        return None
    cell = old["cell"]
    for step in _step_order(old, set(o_id) | set(n_id)):
        o, n = o_id.get(step), n_id.get(step)
        if o == n:
            continue
        o_text, n_text = _identity_text(o), _identity_text(n)
        return _finding(RULE_RESULT, cell,
                        f"{cell_label(cell)}: step {step!r} returns {n_text} where it returned {o_text}; a caller "
                        f"that mutates the value now sees another effect", o_text, n_text, step=step,
                        path=f"{step}.<identity>")
    return None


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _forwarded_text(call: list) -> str:
    role, method, args, kwargs = call
    parts = [json.dumps(a, sort_keys=True) for a in args] + [f"{k}={json.dumps(v, sort_keys=True)}"
                                                               for k, v in sorted(kwargs.items())]
    return f"{role}.{method}({', '.join(parts)})"


def _compare_forwarded(old: dict, new: dict) -> Finding | None:
    """The first call forwarded to a custom storage that differs (a field or keyword left at None
    on one side only is the same call: a newer filter's optional field)."""
    o_calls, n_calls = old.get("forwarded") or [], new.get("forwarded") or []
    o_keys = [json.dumps(_without_nulls(c), sort_keys=True) for c in o_calls]
    n_keys = [json.dumps(_without_nulls(c), sort_keys=True) for c in n_calls]
    if o_keys == n_keys:
        return None
    cell = old["cell"]
    label = cell_label(cell)
    o_count = Counter(f"{c[0]}.{c[1]}" for c in o_calls)
    n_count = Counter(f"{c[0]}.{c[1]}" for c in n_calls)
    sm = difflib.SequenceMatcher(None, o_keys, n_keys, autojunk=False)
    tag, i1, i2, j1, j2 = next(op for op in sm.get_opcodes() if op[0] != "equal")
    o_call = o_calls[i1] if i1 < i2 else None
    n_call = n_calls[j1] if j1 < j2 else None
    o_name = f"{o_call[0]}.{o_call[1]}" if o_call else None
    n_name = f"{n_call[0]}.{n_call[1]}" if n_call else None
    if o_call and n_call and o_name == n_name:
        kind, name = "arguments", o_name
        msg = (f"{label}: the instance calls `{name}` with other arguments: {_forwarded_text(n_call)} instead of "
               f"{_forwarded_text(o_call)}; a custom storage gets another query")
    elif o_call and n_count[o_name] < o_count[o_name]:
        kind, name = "missing", o_name
        msg = f"{label}: the instance no longer calls `{name}` here; a custom storage is no longer asked"
    elif n_call and n_count[n_name] > o_count[n_name]:
        kind, name = "added", n_name
        msg = f"{label}: the instance now calls `{name}` here where it did not; a custom storage must answer it"
    else:
        kind, name = "reordered", o_name or n_name
        msg = f"{label}: the instance calls its storages in another order at `{name}`"
    lo, ln = max(0, i1 - 2), max(0, j1 - 2)
    old_ctx = "\n".join(("> " if lo + k == i1 else "  ") + _forwarded_text(c) for k, c in enumerate(o_calls[lo:i2 + 2]))
    new_ctx = "\n".join(("> " if ln + k == j1 else "  ") + _forwarded_text(c) for k, c in enumerate(n_calls[ln:j2 + 2]))
    # a call made fewer times is still made: the storage is asked, only less often
    fewer = {"still_called": True} if kind == "missing" and n_count[name] > 0 else {}
    return _finding(RULE_FORWARDED, cell, msg, old_ctx, new_ctx, change=kind, member_name=name,
                    old_index=i1, new_index=j1, **fewer)


def _attribute_steps(trace: dict) -> dict[str, list[tuple[str, str]]]:
    """Attribute -> the (step, "added" or "removed") that changed it, in step order."""
    out: dict[str, list[tuple[str, str]]] = {}
    changes = trace.get("attributes") or {}
    for step in _step_order(trace, set(changes) - {ATTRIBUTES_AT_START}):
        for what in ("added", "removed"):
            for name in (changes.get(step) or {}).get(what) or []:
                out.setdefault(name, []).append((step, what))
    return out


def _compare_attributes(old: dict, new: dict) -> Finding | None:
    """The first attribute the old base had that is set or deleted by other steps than before
    (see RULE_ATTRIBUTES). Which attributes each side has at the start is the surface's and the
    profiles' to compare (private names differ between releases); here only when they change."""
    if (old.get("attributes") or {}) == (new.get("attributes") or {}):
        return None
    o_at, n_at = _attribute_steps(old), _attribute_steps(new)
    o_start = set(((old.get("attributes") or {}).get(ATTRIBUTES_AT_START) or {}).get("present") or [])
    cell = old["cell"]
    for name in sorted(set(o_at) | set(n_at)):
        o, n = o_at.get(name, []), n_at.get(name, [])
        if o == n or (name not in o_start and not o):
            continue  # the same, or an attribute the old base never had: no subclass read it

        def where(changes: list[tuple[str, str]]) -> str:
            return ", ".join(f"{what} by step {step!r}" for step, what in changes) or "not changed by any step"

        return _finding(RULE_ATTRIBUTES, cell, f"{cell_label(cell)}: `self.{name}` is {where(n)}; it was {where(o)}",
                        where(o), where(n), attribute=name, step=(n or o)[0][0])
    return None


def _compare_warnings(old: dict, new: dict) -> Finding | None:
    """The first step whose warnings differ: a new category is breaking (an error under
    ``-W error``), a dropped or reworded warning only a warning."""
    o_w, n_w = old.get("warnings") or {}, new.get("warnings") or {}
    if o_w == n_w:
        return None
    cell = old["cell"]
    label = cell_label(cell)
    softer = None
    for step in _step_order(old, set(o_w) | set(n_w)):
        o, n = o_w.get(step) or [], n_w.get(step) or []
        if o == n:
            continue
        gained = Counter(c for c, _ in n) - Counter(c for c, _ in o)
        o_text, n_text = _short(o) if o else "no warning", _short(n) if n else "no warning"
        if gained:
            first = next(w for w in n if w[0] in gained)
            return _finding(RULE_WARNING, cell, f"{label}: step {step!r} now emits {first[0]}: {first[1]} "
                            f"(an error under -W error)", o_text, n_text, step=step, category=first[0])
        lost = Counter(c for c, _ in o) - Counter(c for c, _ in n)
        what = f"no longer emits {sorted(lost)[0]}" if lost else "emits its warnings with other messages"
        softer = softer or _finding(RULE_WARNING, cell, f"{label}: step {step!r} {what}", o_text, n_text,
                                    severity=WARNING, step=step)
    return softer


def _describe_exc_change(o: Any, n: Any, missing: object) -> str:
    if _is_exc(o) and _is_exc(n):
        ot, nt = o["__exception__"]["type"], n["__exception__"]["type"]
        return f"raises {nt} instead of {ot}" if ot != nt else f"raises {nt} with a different message"
    if _is_exc(o):
        return f"no longer raises {o['__exception__']['type']}"
    return f"now raises {n['__exception__']['type']}"


def _first_diff(o: Any, n: Any, path: str) -> tuple[str, Any, Any]:
    """The first (in canonical order) path where two JSON values differ."""
    if isinstance(o, dict) and isinstance(n, dict):
        for k in sorted(set(o) | set(n)):
            if k not in o:
                if n[k] is None:
                    continue
                return f"{path}.{k}", "<absent>", n[k]
            if k not in n:
                if o[k] is None:
                    continue
                return f"{path}.{k}", o[k], "<absent>"
            if not same(o[k], n[k]):
                return _first_diff(o[k], n[k], f"{path}.{k}")
    if isinstance(o, list) and isinstance(n, list):
        for i, (a, b) in enumerate(zip(o, n)):
            if not same(a, b):
                return _first_diff(a, b, f"{path}[{i}]")
        if len(o) != len(n):
            return f"{path}[len]", len(o), len(n)
    return path, o, n


def _calls(kind: str, old: dict | None, new: dict | None) -> dict[str, Any]:
    """The two argument shapes of a dispatch whose arguments changed (positional types, keyword
    names), so that the severity policy can tell keyword-to-positional from the reverse."""
    if kind != "arguments" or old is None or new is None:
        return {}
    shape = lambda ev: {"args": list(ev.get("args", [])), "kwargs": dict(sorted(ev.get("kwargs", {}).items()))}  # noqa: E731
    return {"old_call": shape(old), "new_call": shape(new)}


def _render_event(ev: dict) -> str:
    count = f" x{ev['n']}" if ev.get("n", 1) > 1 else ""
    return f"{dispatch_key(ev)}  <- {ev.get('caller_class', '?')}.{ev.get('caller', '?')} [{ev.get('via', '?')}]{count}"


def _comparable(events: list[dict], members: set[str] | None) -> tuple[list[dict], list[str]]:
    """Dispatch events to members both sides can override, consecutive duplicates collapsed,
    and each kept event's :func:`dispatch_key` (computed once: a full replay compares some
    400,000 events)."""
    out: list[dict] = []
    keys: list[str] = []
    last = None
    for ev in events:
        if members is not None and ev["member"] not in members:
            continue
        key = dispatch_key(ev)
        if key == last:
            continue
        last = key
        out.append(ev)
        keys.append(key)
    return out, keys


def _compare_dispatch(old: dict, new: dict) -> Finding | None:
    found = _dispatch_divergences(old, new)
    return found[0] if found else None


def _dispatch_divergences(old: dict, new: dict) -> list[Finding]:
    """Every place the dispatches of a cell diverge, in order, one finding per (change, member)."""
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    cell = old["cell"]
    label = cell_label(cell)
    o_members = set(old.get("meta", {}).get("spied_members") or [])
    n_members = set(new.get("meta", {}).get("spied_members") or [])
    if not o_members and not n_members:
        return []
    common = o_members & n_members
    o_ev, o_keys = _comparable(old.get("dispatch") or [], common)
    n_ev, n_keys = _comparable(new.get("dispatch") or [], common)
    if o_keys == n_keys:
        return []
    o_count, n_count = Counter(e["member"] for e in o_ev), Counter(e["member"] for e in n_ev)
    missing = sorted(m for m in o_count if n_count[m] < o_count[m] and n_count[m] == 0)
    added = sorted(m for m in n_count if o_count[m] == 0)
    sm = difflib.SequenceMatcher(None, o_keys, n_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        first_old = o_ev[i1] if i1 < i2 else None
        first_new = n_ev[j1] if j1 < j2 else None
        if first_old is not None and first_new is not None and first_old["member"] == first_new["member"]:
            kind = "arguments"
        elif first_old is not None and n_count[first_old["member"]] < o_count[first_old["member"]]:
            kind = "missing"
        elif first_new is not None and n_count[first_new["member"]] > o_count[first_new["member"]]:
            kind = "added"
        else:
            kind = "reordered"
        if kind == "arguments":
            ev = first_old
            msg = (f"{label}: `{ev['member']}` is dispatched from `{first_new.get('caller_class')}."
                   f"{first_new.get('caller')}` with different arguments: {dispatch_key(first_new)} instead of "
                   f"{dispatch_key(ev)}; an override whose signature does not accept the new call breaks")
        elif kind == "missing":
            ev = first_old
            msg = (f"{label}: `{ev['member']}` is no longer dispatched through the instance from "
                   f"`{ev.get('caller_class')}.{ev.get('caller')}`; a subclass override of "
                   f"`{ev['member']}` is silently ignored here")
        elif kind == "added":
            ev = first_new
            msg = (f"{label}: the base now dispatches to `{ev['member']}` from `{ev.get('caller_class')}."
                   f"{ev.get('caller')}` where it did not before; a subclass override of it now runs here")
        else:
            ev = first_old or first_new
            msg = (f"{label}: dispatches to overridable members are reordered at `{ev['member']}`; "
                   f"overrides run in a different order")
        others = [m for m in missing if m != ev["member"]]
        if others:
            msg += f" (also never dispatched any more: {', '.join(others)})"
        lo, ln = max(0, i1 - 3), max(0, j1 - 3)
        old_ctx = "\n".join(("> " if lo + k == i1 else "  ") + _render_event(e) for k, e in enumerate(o_ev[lo:i2 + 3]))
        new_ctx = "\n".join(("> " if ln + k == j1 else "  ") + _render_event(e) for k, e in enumerate(n_ev[ln:j2 + 3]))
        if (kind, ev["member"]) in seen:
            continue
        seen.add((kind, ev["member"]))
        out.append(_finding(RULE_DISPATCH, cell, msg, old_ctx, new_ctx, change=kind,
                            member_name=ev["member"], old_index=i1, new_index=j1, members_missing=missing,
                            members_added=added, caller=ev.get("caller"), caller_class=ev.get("caller_class"),
                            caller_via=ev.get("via"), **_calls(kind, first_old, first_new)))
    return out

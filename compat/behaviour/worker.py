"""The behaviour worker: runs scenario cells inside any dagster version's interpreter.

Protocol: JSON lines. On start the worker writes one ``{"hello": ...}`` line. Each request line
``{"subclass": S, "scenario": N, "storage": "memory"|"sqlite"}`` gets one reply line
``{"ok": true, "trace": {...}}``. A request ``{"op": "exit"}`` ends the worker. Started with
``COMPAT_REACH=1`` (while a baseline is recorded), the hello also carries the lines of dagster
the worker ran while starting, and each reply the lines the cell ran (``"reach"``, see
:mod:`compat.behaviour.reach`).

``subclass`` is a name from the subclass corpus (``base`` is plain DagsterInstance), ``spy``
(a recording subclass of DagsterInstance) or ``spy:<corpus name>`` (a recording subclass on
top of a corpus class, so the corpus overrides run and dispatch to them is recorded). A corpus
name written ``yaml:<name>`` is built through ``instance_class:`` in a dagster.yaml instead of
by calling the class.

Every cell gets a fresh instance in its own temp dir, with DAGSTER_HOME pointing into it; the
user's home is never touched. Imports: stdlib, dagster, and compat modules that import only
those (scenarios, spy, trace, corpus).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

from compat.behaviour import paramcov
from compat.behaviour.scenarios import SCENARIOS, Ctx
from compat.worker import spy as spy_mod
from compat.worker.instance import SPY, _corpus, build_instance  # noqa: F401  (SPY, build_instance: re-exported for the behaviour worker's callers)
from compat.model.trace import (
    capture_state, exception_data, forwarded_calls, make_trace, to_jsonable, warnings_data,
)

SCENARIO_WARNINGS = "(scenario)"  # the warnings a scenario emitted outside its steps
REACH_ENV = "COMPAT_REACH"  # "1": record the lines of dagster each cell runs


@dataclass
class _Outcome:
    """What a scenario left: its result or exception, the dispatches the spy recorded and what
    the instance forwarded to storages that note it."""

    result: Any = None
    exception: dict | None = None
    dispatch: list = field(default_factory=list)
    forwarded: list = field(default_factory=list)


def _run_scenario(sc, instance, ctx: Ctx, recording: bool, out: _Outcome) -> None:
    """Fills ``out`` as it goes: what was recorded before a failure of the harness stays."""
    # what the instance forwards to custom storages that note it (compat.corpus.forwarding),
    # from the scenario's start
    noted = getattr(instance, "compat_forwarded", None)
    first_noted = len(noted) if isinstance(noted, list) else 0
    if recording:
        spy_mod.RECORDER.start()
    # warnings outside any step (the scenario's own calls) count too, under SCENARIO_WARNINGS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out.result = sc.fn(instance, ctx)
        except Exception as exc:  # noqa: BLE001 - the scenario's own exception is data
            out.exception = exception_data(exc, exact=True)
            out.result = ctx.results
        finally:
            if recording:
                out.dispatch = list(spy_mod.RECORDER.stop())
    if isinstance(noted, list):
        out.forwarded = forwarded_calls(noted[first_noted:])
    if warnings_data(caught):
        ctx.warnings[SCENARIO_WARNINGS] = warnings_data(caught)
    # the steps' values are already encoded (re-encoding them would read markers as data)
    out.result = out.result if out.result is ctx.results else to_jsonable(out.result, exact=True)


@contextlib.contextmanager
def _dagster_home(home: str):
    old_home = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = home
    try:
        yield
    finally:
        if old_home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = old_home


def _scenario(scenario: str, storage: str):
    sc = SCENARIOS.get(scenario)
    if sc is None:
        raise LookupError(f"unknown scenario {scenario!r}")
    if storage not in sc.storages:
        raise LookupError(f"scenario {scenario!r} does not run on {storage!r} storage")
    return sc


def run_cell(subclass: str, scenario: str, storage: str, costs: dict[str, float] | None = None) -> dict[str, Any]:
    """The trace of one cell. ``costs``, when given, receives the CPU seconds of the whole cell
    (``cell``) and of the harness's own parts of it: building and disposing of the instance (``instance``),
    capturing the final state (``state``) and making the trace (``trace``); the rest is the
    scenario's (``make bench`` reports the harness's share)."""
    clock = time.process_time
    started = clock()
    cell = {"subclass": subclass, "scenario": scenario, "storage": storage}
    root = tempfile.mkdtemp(prefix="compat-cell-")
    home = os.path.join(root, "home")
    work = os.path.join(root, "instance")
    os.makedirs(home)
    os.makedirs(work)
    out = _Outcome()
    state: dict = {}
    cell_error = None
    steps: list[str] = []
    wrapped: list[str] = []
    instance = None
    ctx = None
    spent = {"instance": 0.0, "state": 0.0, "trace": 0.0}
    with _dagster_home(home):
        try:
            sc = _scenario(scenario, storage)
            t = clock()
            instance = build_instance(subclass, work, storage, sc.settings)
            spent["instance"] = clock() - t
            wrapped = sorted(getattr(type(instance), "__compat_wrapped__", ()))
            ctx = Ctx(tmpdir=work, storage=storage, owner=instance)
            ctx.note_attributes_at_start()
            _run_scenario(sc, instance, ctx, bool(wrapped), out)
            steps = list(ctx.results)
            t = clock()
            state = capture_state(instance, sorted(ctx.dynamic_partition_names))
            spent["state"] = clock() - t
        except Exception as exc:  # noqa: BLE001 - the cell could not run at all
            cell_error = f"{type(exc).__name__}: {exc}"
        finally:
            spy_mod.RECORDER.active = False
            if instance is not None:
                t = clock()
                try:
                    instance.dispose()
                except Exception:  # noqa: BLE001
                    pass
                spent["instance"] += clock() - t
    meta = {"dagster_version": _dagster_version(), "spied_members": wrapped, "steps": steps,
            **({"calls": dict(sorted(ctx.calls.items()))} if ctx is not None and ctx.calls else {}),
            "dropped_dispatches": spy_mod.RECORDER.dropped}
    t = clock()
    trace = make_trace(cell, result=out.result, exception=out.exception, state=state, dispatch=out.dispatch,
                       meta=meta, tmpdirs=[work, home, root], cell_error=cell_error,
                       warnings=ctx.warnings if ctx is not None else None,
                       identity=ctx.identity if ctx is not None else None, forwarded=out.forwarded,
                       attributes=ctx.attributes if ctx is not None else None)
    spent["trace"] = clock() - t
    shutil.rmtree(root, ignore_errors=True)
    if costs is not None:
        costs.update(spent, cell=clock() - started)
    return trace


# Modules the cells import lazily, measured on the recorded releases (1.11.4 and 1.13.29: every
# recorded cell and stored program, after the instances below were built): imported at start-up,
# no cell is the one that imports them, so the functions a cell runs stay its own instead of
# state it leaves to the cells after it (see compat/behaviour/reach.py, point 4). A name a
# release does not have is skipped; tests/test_reach.py checks that no cell imports another.
WARM_MODULES = (
    "dagster._core.definitions.definitions_load_context",
    "dagster._core.definitions.external_asset",
    "dagster._core.definitions.repository_definition.repository_data_builder",
    "dagster._core.execution.execute_in_process",
    "dagster._core.execution.plan.active",
    "dagster._core.executor.in_process",
    "dagster._core.instance.factory",
    "dagster._core.instance.runs",
    "dagster._core.instance.runs.run_domain",
    "dagster._core.remote_representation.historical",
    "dagster._core.storage.legacy_storage",
    "dagster._core.system_config.composite_descent",
    "dagster._core.types.primitive_mapping",
    "dagster._core.types.transform_typing",
    "dagster._core.utility_ops",
    "dagster._core.workspace.autodiscovery",
    "dagster._grpc.server",
    "dagster._utils.container",
    "dagster._utils.path",
    "dagster._utils.temp_file",
    "dagster._utils.test",
    "dagster._utils.test.definitions",
    "dagster._utils.typed_dict",
    "_strptime",
    # the harness's own modules that build dagster objects when imported (definitions, corpus
    # classes): what their import runs in dagster belongs to no one cell either
    "compat.behaviour.defs",
)


def warm() -> None:
    """Build and dispose a plain instance on each storage, and import what cells import lazily:
    the storages' lazy imports and the migration environment then load at start-up, not in
    whichever cell comes first (while recording, what a cell imports counts as state it may
    leave to later cells)."""
    import importlib

    corpus = _corpus()
    names = list(WARM_MODULES) + sorted(f"compat.corpus.{p.stem}" for p in _corpus_files(corpus))
    for name in names:
        try:
            if _present(name):
                importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a release without it; a cell that needs it reports why
            pass
    # every spy class is built here, once, not in whichever cell first spies on its subclass (the
    # harness lines a cell runs are recorded: they must not depend on what its worker ran before)
    for path in sorted(corpus.CORPUS.values()) if corpus is not None else ["dagster._core.instance:DagsterInstance"]:
        module, _, cls_name = path.partition(":")
        try:
            spy_mod.spy_class(getattr(importlib.import_module(module), cls_name))
        except Exception:  # noqa: BLE001 - a class this release cannot import; its cells say why
            pass
    for storage in ("memory", "sqlite"):
        root = tempfile.mkdtemp(prefix="compat-warm-")
        try:
            with _dagster_home(root):
                build_instance("base", root, storage).dispose()
        except Exception:  # noqa: BLE001 - a cell that cannot build its instance reports it itself
            pass
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _present(name: str) -> bool:
    """Whether module ``name`` exists, found by its file under its package (imported) without
    asking the import system for it: the warm list names modules of several releases, and a
    recording notes a name asked for and not found, so that a module a branch adds there would
    count as looked up by a cell (compat/behaviour/reach.py, point 1) when only the start-up
    ever asked for it."""
    import importlib

    package, _, last = name.rpartition(".")
    if not package:
        return True
    if not _present(package):
        return False
    paths = getattr(importlib.import_module(package), "__path__", None) or ()
    return any(os.path.isfile(os.path.join(d, last + ".py")) or os.path.isfile(os.path.join(d, last, "__init__.py"))
               for d in paths)


def _corpus_files(corpus) -> list:
    from pathlib import Path

    if corpus is None:
        return []
    return [p for p in Path(corpus.__file__).parent.glob("*.py") if p.stem != "__init__"]


def _dagster_version() -> str:
    try:
        import dagster

        return str(dagster.__version__)
    except Exception:  # noqa: BLE001
        return "?"


def _start_coverage():
    """coverage.py on the target's package, lines and branches, when the parent asks for it
    (``compat coverage``); the parameters the calls pass are noted beside it (:mod:`paramcov`)."""
    data_file = os.environ.get("COMPAT_COVERAGE_DATA")
    if not data_file:
        return None
    import coverage

    cov = coverage.Coverage(data_file=data_file, data_suffix=True, config_file=False, branch=True,
                            source=[os.environ["COMPAT_COVERAGE_SOURCE"]])
    cov.start()
    return cov


def _start_reach():
    """The per-cell line recorder, started before dagster is imported so start-up counts too."""
    if os.environ.get(REACH_ENV) != "1":
        return None
    from compat.worker.recorder import LineRecorder

    return LineRecorder()


def main() -> int:
    recorder = _start_reach()
    from compat.channel import requests, serve

    cov = _start_coverage()
    params = paramcov.start_from_environ() if cov is not None else None
    try:
        return _serve(serve, requests, recorder)
    finally:
        if params is not None:
            params.save(os.environ[paramcov.PARAMS_ENV])
        if cov is not None:
            cov.stop()
            cov.save()


def prepare() -> dict:
    """A fork server's start-up (:mod:`compat.forkserver`): what a worker does before its hello,
    warm-up included, done once for every worker forked from it."""
    recorder = _start_reach()
    warm()
    return {"dagster_version": _dagster_version(), "recorder": recorder,
            "startup": recorder.take(harness=False) if recorder is not None else None}


def serve_forked(prepared: dict) -> int:
    """A forked worker: the same protocol, its start-up lines those of the server's start-up."""
    from compat.channel import requests, serve

    return _serve(serve, requests, prepared["recorder"], startup=prepared["startup"], warmed=True)


def _serve(serve, requests, recorder=None, *, startup=None, warmed: bool = False) -> int:
    send = serve()
    hello = {"hello": True, "dagster_version": _dagster_version(), "python": sys.version.split()[0],
             "corpus": _corpus() is not None, "pid": os.getpid()}
    if warmed:
        hello["forked_from"] = os.getppid()
    if recorder is not None:
        if not warmed:
            warm()
        hello["touched"] = recorder.touched()
        # what ran before the first cell (a fork's own start-up too) is the start-up, never a cell's;
        # taken last, so that every cell, the first too, runs the same harness lines around it
        hello["reach"] = recorder.take(harness=False, into=startup)
    send(hello)
    for req in requests():
        try:
            trace = run_cell(req["subclass"], req["scenario"], req["storage"])
            reply = {"ok": True, "trace": trace}
            if recorder is not None:
                reply["touched"] = recorder.touched()
                reply["reach"] = recorder.take()  # last: what follows is the next cell's, as after the hello
            send(reply)
        except Exception as exc:  # noqa: BLE001 - protocol-level failure, reported to the parent
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc(limit=5)})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The vocabulary of fuzzed programs: small operations on a DagsterInstance across domains.

Runs inside workers of any dagster version (imports: stdlib, dagster, and compat modules that
import only those). Each operation has an implementation and a line of Python that does the
same thing, so a shrunk counterexample prints as a snippet anyone can run against either
version. Runs are referred to by the order they were created (`runs[i]`), so two versions
that assign different run ids still agree on what a program means.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable

FIXED_TS = 1_700_000_000.0
JOBS = ("job_a", "job_b")
TAG_KEYS = ("team", "prio", "dagster/priority")
TAG_VALUES = ("x", "y", "1")
ASSETS = ("alpha", "beta")
PARTITION_SETS = ("fruits", "colors")
PARTITION_KEYS = ("p1", "p2", "p3")
STATUSES = ("QUEUED", "NOT_STARTED", "STARTED", "SUCCESS", "FAILURE", "CANCELED")
DAEMONS = ("SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR")
SETTINGS = ("telemetry_enabled", "run_retries_enabled", "run_retries_max_retries",
            "run_monitoring_enabled", "nux_enabled", "auto_materialize_enabled")
SETTINGS_KEYS = ("telemetry", "run_retries", "run_monitoring", "code_servers", "concurrency")


class Program:
    """Live state of one program on one instance."""

    def __init__(self, instance: Any) -> None:
        self.instance = instance
        self.runs: list[str] = []

    def run_id(self, index: int) -> str | None:
        return self.runs[index % len(self.runs)] if self.runs else None


def _status(name: str):
    from dagster import DagsterRunStatus

    return DagsterRunStatus[name]


def _job():
    import dagster as dg

    @dg.op
    def noop() -> int:
        return 1

    @dg.job(name="job_a")
    def job_a():
        noop()

    return job_a


_JOB: list = []


def _job_def():
    if not _JOB:
        _JOB.append(_job())
    return _JOB[0]


def _run_view(run) -> dict:
    if run is None:
        return None  # type: ignore[return-value]
    return {"job": run.job_name, "status": run.status.value, "tags": dict(sorted(run.tags.items())),
            "id": run.run_id}


# --- operations: (implementation, code) ------------------------------------------------------
def add_run(p: Program, job: str, tags: dict, status: str):
    from dagster._core.storage.dagster_run import DagsterRun

    run_id = f"{len(p.runs):08d}-0000-4000-8000-000000000000"
    run = p.instance.add_run(DagsterRun(job_name=job, run_id=run_id, tags=tags, status=_status(status)))
    p.runs.append(run.run_id)
    return _run_view(run)


def create_run_for_job(p: Program, tags: dict, status: str):
    run = p.instance.create_run_for_job(job_def=_job_def(), tags=tags, status=_status(status))
    p.runs.append(run.run_id)
    return _run_view(run)


def add_run_tags(p: Program, run: int, tags: dict):
    run_id = p.run_id(run)
    if run_id is None:
        return "no-run"
    p.instance.add_run_tags(run_id, tags)
    return _run_view(p.instance.get_run_by_id(run_id))


def get_runs(p: Program, job: str | None, tags: dict, statuses: list, limit: int | None):
    from dagster import RunsFilter

    kwargs: dict = {}
    if job:
        kwargs["job_name"] = job
    if tags:
        kwargs["tags"] = tags
    if statuses:
        kwargs["statuses"] = [_status(s) for s in statuses]
    runs = p.instance.get_runs(filters=RunsFilter(**kwargs), limit=limit)
    return [_run_view(r) for r in runs]


def get_runs_count(p: Program, job: str | None, tags: dict):
    from dagster import RunsFilter

    kwargs: dict = {}
    if job:
        kwargs["job_name"] = job
    if tags:
        kwargs["tags"] = tags
    return p.instance.get_runs_count(filters=RunsFilter(**kwargs))


def delete_run(p: Program, run: int):
    run_id = p.run_id(run)
    if run_id is None:
        return "no-run"
    p.instance.delete_run(run_id)
    return p.instance.has_run(run_id)


def report_run_status(p: Program, run: int, outcome: str):
    run_id = p.run_id(run)
    if run_id is None:
        return "no-run"
    dagster_run = p.instance.get_run_by_id(run_id)
    if dagster_run is None:
        return "deleted"
    if outcome == "failed":
        p.instance.report_run_failed(dagster_run, "fuzz failure")
    else:
        p.instance.report_run_canceled(dagster_run, "fuzz cancel")
    after = p.instance.get_run_by_id(run_id)
    events = p.instance.all_logs(run_id)
    return {"status": after.status.value, "events": [e.dagster_event.event_type_value for e in events if e.dagster_event]}


def materialize(p: Program, asset: str, partition: str | None):
    import dagster as dg

    p.instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset, partition=partition))
    event = p.instance.get_latest_materialization_event(dg.AssetKey(asset))
    return None if event is None else {"asset": asset, "partition": event.dagster_event.partition}


def log_message(p: Program, run: int, level: str):
    """A plain log record (no dagster event) through handle_new_event, as a step logger does."""
    import logging

    from dagster._core.events.log import EventLogEntry

    run_id = p.run_id(run)
    if run_id is None:
        return "no-run"
    entry = EventLogEntry(error_info=None, level=getattr(logging, level), user_message=f"{level} message",
                          run_id=run_id, timestamp=FIXED_TS, step_key=None, job_name="job_a", dagster_event=None)
    p.instance.handle_new_event(entry)
    return [r.user_message for r in p.instance.all_logs(run_id) if r.dagster_event is None]


def asset_keys(p: Program):
    return sorted(k.to_user_string() for k in p.instance.get_asset_keys())


def wipe_asset(p: Program, asset: str):
    import dagster as dg

    p.instance.wipe_assets([dg.AssetKey(asset)])
    return p.instance.get_latest_materialization_event(dg.AssetKey(asset)) is None


def add_partitions(p: Program, name: str, keys: list):
    p.instance.add_dynamic_partitions(name, keys)
    return sorted(p.instance.get_dynamic_partitions(name))


def delete_partition(p: Program, name: str, key: str):
    p.instance.delete_dynamic_partition(name, key)
    return [sorted(p.instance.get_dynamic_partitions(name)), p.instance.has_dynamic_partition(name, key)]


def heartbeat(p: Program, daemon: str, errors: int):
    from dagster._daemon.types import DaemonHeartbeat
    from dagster._utils.error import SerializableErrorInfo

    errs = [SerializableErrorInfo(f"error {i}", [], "Boom") for i in range(errors)]
    p.instance.add_daemon_heartbeat(DaemonHeartbeat(FIXED_TS, daemon, "daemon-1", errs))
    beats = p.instance.get_daemon_heartbeats()
    return {k: len(v.errors or []) for k, v in sorted(beats.items())}


def read_setting(p: Program, name: str):
    value = getattr(p.instance, name)
    return value() if callable(value) else value


def get_settings(p: Program, key: str):
    return p.instance.get_settings(key)


def required_daemons(p: Program):
    return sorted(p.instance.get_required_daemon_types())


# --- the arguments a search draws, as plain data (workers have no Hypothesis) -------------------
@dataclass(frozen=True)
class Arg:
    """How a search draws one argument of an operation; :func:`compat.fuzz.differential.strategy`
    turns it into a Hypothesis strategy. ``kind`` is one of choice, ints, lists, dicts."""

    kind: str
    values: tuple = ()
    keys: tuple = ()
    low: int = 0
    high: int = 0
    min_size: int = 0
    max_size: int = 0
    unique: bool = False
    optional: bool = False  # None is drawn too


def choice(values: tuple, *, optional: bool = False) -> Arg:
    return Arg("choice", values=tuple(values), optional=optional)


def ints(low: int, high: int, *, optional: bool = False) -> Arg:
    return Arg("ints", low=low, high=high, optional=optional)


def lists(values: tuple, *, min_size: int = 0, max_size: int, unique: bool = False) -> Arg:
    return Arg("lists", values=tuple(values), min_size=min_size, max_size=max_size, unique=unique)


def dicts(keys: tuple, values: tuple, *, max_size: int) -> Arg:
    return Arg("dicts", keys=tuple(keys), values=tuple(values), max_size=max_size)


TAGS = dicts(TAG_KEYS, TAG_VALUES, max_size=2)
RUN = ints(0, 5)  # a run by the order it was created (`runs[i]`, modulo the runs there are)


@dataclass(frozen=True)
class Op:
    """One operation, written once: what it runs, the same call as a line of Python, the instance
    member it calls first (what a program is filed under), and how a search draws its arguments."""

    name: str
    run: Callable
    code: str
    member: str | Callable[[dict], str]  # or of the step's arguments, when they name it
    args: dict[str, Arg] = field(default_factory=dict)


OPS: dict[str, Op] = {op.name: op for op in (
    Op("add_run", add_run,
       "instance.add_run(DagsterRun(job_name={job!r}, run_id=new_run_id(), tags={tags!r}, status=DagsterRunStatus.{status}))",
       "add_run", {"job": choice(JOBS), "tags": TAGS, "status": choice(STATUSES)}),
    Op("create_run_for_job", create_run_for_job,
       "instance.create_run_for_job(job_def=job_a, tags={tags!r}, status=DagsterRunStatus.{status})",
       "create_run_for_job", {"tags": TAGS, "status": choice(("NOT_STARTED", "QUEUED"))}),
    Op("add_run_tags", add_run_tags, "instance.add_run_tags(runs[{run}], {tags!r})",
       "add_run_tags", {"run": RUN, "tags": TAGS}),
    Op("get_runs", get_runs,
       "instance.get_runs(filters=RunsFilter(job_name={job!r}, tags={tags!r}, statuses=[DagsterRunStatus[s] for s in {statuses!r}]), limit={limit!r})",
       "get_runs", {"job": choice(JOBS, optional=True), "tags": TAGS, "statuses": lists(STATUSES, max_size=2, unique=True),
                    "limit": ints(1, 3, optional=True)}),
    Op("get_runs_count", get_runs_count, "instance.get_runs_count(filters=RunsFilter(job_name={job!r}, tags={tags!r}))",
       "get_runs_count", {"job": choice(JOBS, optional=True), "tags": TAGS}),
    Op("delete_run", delete_run, "instance.delete_run(runs[{run}])", "delete_run", {"run": RUN}),
    Op("report_run_status", report_run_status, "instance.report_run_{outcome}(instance.get_run_by_id(runs[{run}]), 'fuzz')",
       lambda a: "report_run_" + a["outcome"], {"run": RUN, "outcome": choice(("failed", "canceled"))}),
    Op("materialize", materialize, "instance.report_runless_asset_event(AssetMaterialization(asset_key={asset!r}, partition={partition!r}))",
       "report_runless_asset_event", {"asset": choice(ASSETS), "partition": choice(PARTITION_KEYS, optional=True)}),
    Op("log_message", log_message,
       "instance.handle_new_event(EventLogEntry(error_info=None, level=logging.{level}, user_message='{level} message', run_id=runs[{run}], timestamp={ts}, step_key=None, job_name='job_a', dagster_event=None))",
       "handle_new_event", {"run": RUN, "level": choice(("DEBUG", "INFO", "WARNING"))}),
    Op("asset_keys", asset_keys, "instance.get_asset_keys()", "get_asset_keys"),
    Op("wipe_asset", wipe_asset, "instance.wipe_assets([AssetKey({asset!r})])", "wipe_assets", {"asset": choice(ASSETS)}),
    Op("add_partitions", add_partitions, "instance.add_dynamic_partitions({name!r}, {keys!r})",
       "add_dynamic_partitions", {"name": choice(PARTITION_SETS), "keys": lists(PARTITION_KEYS, min_size=1, max_size=3)}),
    Op("delete_partition", delete_partition, "instance.delete_dynamic_partition({name!r}, {key!r})",
       "delete_dynamic_partition", {"name": choice(PARTITION_SETS), "key": choice(PARTITION_KEYS)}),
    Op("heartbeat", heartbeat, "instance.add_daemon_heartbeat(DaemonHeartbeat({ts}, {daemon!r}, 'daemon-1', []))",
       "add_daemon_heartbeat", {"daemon": choice(DAEMONS), "errors": ints(0, 2)}),
    Op("read_setting", read_setting, "instance.{name}", lambda a: a["name"], {"name": choice(SETTINGS)}),
    Op("get_settings", get_settings, "instance.get_settings({key!r})", "get_settings", {"key": choice(SETTINGS_KEYS)}),
    Op("required_daemons", required_daemons, "instance.get_required_daemon_types()", "get_required_daemon_types"),
)}


def code_line(op: str, args: dict) -> str:
    return OPS[op].code.format(ts=FIXED_TS, **args)


def entry_member(op: str, args: dict) -> str:
    """The instance member a step calls first (`heartbeat` -> `add_daemon_heartbeat`)."""
    member = OPS[op].member
    return member if isinstance(member, str) else member(args)


def snippet(program: list[tuple[str, dict]], subclass: str, storage: str) -> str:
    """A standalone script replaying the program with the harness's own runner."""
    lines = [
        "# Reproduces the mismatch; run it with each dagster (PYTHONPATH=<compat checkout>).",
        "import json",
        "from compat.fuzz.ops import run_program",
        "",
        "program = [",
    ]
    for op, args in program:
        lines.append(f"    ({op!r}, {args!r}),  # {code_line(op, args)}")
    lines += [
        "]",
        f"print(json.dumps(run_program(program, {subclass!r}, {storage!r}), indent=1, sort_keys=True))",
    ]
    return "\n".join(lines)


def run_program(program: list, subclass: str = "base", storage: str = "memory") -> list:
    """Run a whole program on a fresh instance; the normalized result of every step."""
    with tempfile.TemporaryDirectory(prefix="compat-fuzz-") as tmp:
        session = Session(subclass, storage, tmp)
        try:
            return [session.step(op, args) for op, args in program]
        finally:
            session.close()


def _own_overrides(cls: type) -> set[str]:
    """Members the subclass itself defines over DagsterInstance (the spy layer excluded)."""
    from dagster._core.instance import DagsterInstance

    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is DagsterInstance:
            break
        if getattr(klass, "__compat_spy__", False):
            continue
        names |= {n for n in vars(klass) if not (n.startswith("__") and n.endswith("__"))}
    return names


_TEMPLATES: dict[str, str] = {}


def _from_template(subclass: str, base_dir: str) -> None:
    """Fill base_dir with empty sqlite databases copied from a template built once.

    Creating sqlite storages (schema, migrations stamp) costs ~0.8 s; copying the files of an
    instance that was built and disposed without doing anything costs ~2 ms, and the instance
    built over them is indistinguishable from a fresh one.
    """
    import os
    import shutil

    from compat.worker.instance import build_instance

    name = subclass.split(":", 1)[-1] if subclass.startswith("spy:") else ("base" if subclass == "spy" else subclass)
    template = _TEMPLATES.get(name)
    if template is None:
        template = tempfile.mkdtemp(prefix=f"compat-template-{name}-")
        build_instance(name, template, "sqlite").dispose()
        _TEMPLATES[name] = template
    for entry in os.listdir(template):
        src, dst = os.path.join(template, entry), os.path.join(base_dir, entry)
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


class Session:
    """One program's instance in a worker: steps run one at a time, results normalized."""

    def __init__(self, subclass: str, storage: str, base_dir: str) -> None:
        from compat.model.trace import Normalizer, default_replacements
        from compat.worker.instance import build_instance

        if storage == "sqlite":
            _from_template(subclass, base_dir)
        instance = build_instance(subclass, base_dir, storage)
        self.program = Program(instance)
        self.normalizer = Normalizer(default_replacements([base_dir]))
        self.spied = bool(getattr(type(instance), "__compat_spy__", False))
        self.overrides = _own_overrides(type(instance))

    def step(self, op: str, args: dict) -> Any:
        from compat.model.trace import exception_data, to_jsonable

        from compat.worker.spy import RECORDER

        fn = OPS[op].run
        if self.spied:
            RECORDER.start()
        try:
            value = to_jsonable(fn(self.program, **args))
        except Exception as exc:  # noqa: BLE001 - an exception is a result to compare
            value = {"__exception__": exception_data(exc)}
        finally:
            events = RECORDER.stop() if self.spied else []
        hooks = [e["member"] for e in events if e["member"] in self.overrides]
        return self.normalizer.value({"value": value, "overrides_dispatched": hooks})

    def close(self) -> None:
        try:
            self.program.instance.dispose()
        except Exception:  # noqa: BLE001
            pass

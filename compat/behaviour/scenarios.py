"""Deterministic scenarios: a piece of work on a fresh instance, one per responsibility domain.

Each scenario is a function ``(instance, ctx) -> JSON-able result`` registered under a stable
name in ``SCENARIOS``. It runs on a fresh instance in its own temp dir, through the subclass
under test, and uses only APIs that exist in every dagster version the harness drives (the
monolithic 1.11.4 class through the current mixin-based one). Individual steps go through
``ctx.step`` so that an exception becomes data in the result instead of ending the scenario;
a step also records every warning it emitted, and whether its value is the very object an
earlier step returned or one the instance holds (a caller mutating it then mutates that).

Imports only the standard library at import time; dagster is imported inside the scenarios.
"""

from __future__ import annotations

import enum
import importlib
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from compat.model.trace import exception_data, to_jsonable, warnings_data

STORAGES = ("memory", "sqlite")
FIXED_TS = 1_700_000_000.0  # a fixed instant for timestamps that scenarios supply themselves


def _member_called(fn: Callable[..., Any], owner: Any) -> str | None:
    """The instance member a step calls: a bound method of the instance (or its class), or the
    first member of the instance's class that a lambda names."""
    if owner is None:
        return None
    bound = getattr(fn, "__self__", None)
    if bound is owner or bound is type(owner):
        return getattr(fn, "__name__", None)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return next((n for n in code.co_names if not n.startswith("__") and hasattr(type(owner), n)), None)


@dataclass
class Ctx:
    """What a scenario gets besides the instance: its temp dir and a result collector.

    Per step it keeps the value (or exception) in ``results``, the warnings emitted in
    ``warnings``, and in ``identity`` whether the value is the same object an earlier step
    returned (``same_as``) or an object ``owner`` (the instance) holds in an attribute
    (``internal``): both are what a caller that mutates a returned value observes."""

    tmpdir: str
    storage: str
    results: dict[str, Any] = field(default_factory=dict)
    dynamic_partition_names: set[str] = field(default_factory=set)
    owner: Any = None
    warnings: dict[str, list[list[str]]] = field(default_factory=dict)
    identity: dict[str, dict[str, Any]] = field(default_factory=dict)
    # per step, the instance attributes it set or deleted (a lazily set one shows where it is set)
    attributes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # per step whose label does not start with it, the instance member it calls (for titles:
    # "`get_required_daemon_types` (step `required`) returns a different value")
    calls: dict[str, str] = field(default_factory=dict)
    # every step's value, kept alive so that no later value reuses its id
    kept: list[tuple[str, Any]] = field(default_factory=list, repr=False)

    def step(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one step; record its value (or its exception, as data) under ``label``."""
        failed = False
        member = _member_called(fn, self.owner)
        if member is not None and member != label.partition(":")[0]:
            self.calls[label] = member
        before = _attribute_names(self.owner)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - exceptions are part of the behaviour
                self.results[label] = {"__exception__": exception_data(exc, exact=True)}
                failed = True
        emitted = warnings_data(caught)
        if emitted:
            self.warnings[label] = emitted
        after = _attribute_names(self.owner)
        if after != before:
            change = {"added": sorted(after - before), "removed": sorted(before - after)}
            self.attributes[label] = {k: v for k, v in change.items() if v}
        if failed:
            return None
        self.results[label] = to_jsonable(value, exact=True)
        self._note_identity(label, value)
        return value

    def note_attributes_at_start(self) -> None:
        """The attributes the instance has before the first step (under ``ATTRIBUTES_AT_START``):
        what tells an attribute now set later from one that is new."""
        self.attributes[ATTRIBUTES_AT_START] = {"present": sorted(_attribute_names(self.owner))}

    def put(self, label: str, value: Any) -> None:
        self.results[label] = to_jsonable(value, exact=True)

    def _note_identity(self, label: str, value: Any) -> None:
        if value is None or isinstance(value, _VALUES):
            return
        same = next((earlier for earlier, kept in self.kept if kept is value), None)
        if same is not None:
            self.identity[label] = {"same_as": same}
        elif self.owner is not None and _held_by(self.owner, value):
            self.identity[label] = {"internal": True}
        self.kept.append((label, value))


# values whose identity a caller cannot use (immutable, or singletons by design)
_VALUES = (bool, int, float, complex, str, bytes, enum.Enum, type, tuple, frozenset)


ATTRIBUTES_AT_START = "(start)"


def _attribute_names(owner: Any) -> set[str]:
    """The instance attributes a subclass can read (name-mangled ones are the class's own)."""
    if owner is None:
        return set()
    return {name for name in vars(owner) if "__" not in name}


def _held_by(owner: Any, value: Any) -> bool:
    """Whether ``value`` is an object ``owner`` holds: one of its attributes, or a value in a
    mapping or list one of its attributes is."""
    for attr in vars(owner).values():
        if attr is value:
            return True
        if isinstance(attr, dict) and any(v is value for v in attr.values()):
            return True
        if isinstance(attr, list) and any(v is value for v in attr):
            return True
    return False


@dataclass(frozen=True)
class Scenario:
    name: str
    domain: str
    fn: Callable[[Any, Ctx], Any]
    storages: tuple[str, ...] = STORAGES
    settings: dict[str, Any] | None = None  # instance settings the scenario needs
    doc: str = ""


SCENARIOS: dict[str, Scenario] = {}

DOMAINS = (
    "storage",
    "runs",
    "assets",
    "events",
    "schedules",
    "backfills",
    "partitions",
    "configuration",
    "monitoring",
    "snapshots",
    "execution",
)


def scenario(name: str, domain: str, *, storages: tuple[str, ...] = STORAGES, settings: dict | None = None):
    assert domain in DOMAINS, domain

    def register(fn: Callable[[Any, Ctx], Any]) -> Callable[[Any, Ctx], Any]:
        assert name not in SCENARIOS, name
        SCENARIOS[name] = Scenario(name, domain, fn, storages, settings, (fn.__doc__ or "").strip())
        return fn

    return register


def _import(name: str, *modules: str) -> Any:
    """A dagster name from the first module that has it (modules move between versions)."""
    for mod in modules:
        try:
            return getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"{name} not found in {', '.join(modules)}")


# ---------------------------------------------------------------------------------------------
# shared definitions


def _ops_job(name: str = "ops_job", fail: bool = False):
    import dagster as dg

    @dg.op
    def emit() -> int:
        return 2

    @dg.op
    def double(x: int) -> int:
        if fail:
            raise ValueError("deliberate failure in double")
        return x * 2

    @dg.op
    def report(context, y: int) -> int:
        context.log.info(f"value is {y}")
        return y + 1

    @dg.job(name=name, tags={"owner": "compat"})
    def the_job():
        report(double(emit()))

    return the_job


def _origin(name: str):
    mods = ("dagster._core.remote_origin", "dagster._core.remote_representation.origin")
    RegisteredCodeLocationOrigin = _import("RegisteredCodeLocationOrigin", *mods)
    RemoteRepositoryOrigin = _import("RemoteRepositoryOrigin", *mods)
    RemoteInstigatorOrigin = _import("RemoteInstigatorOrigin", *mods)
    repo = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("compat_location"), "compat_repo")
    return RemoteInstigatorOrigin(repo, name)


def _asset(key: str | list[str]):
    import dagster as dg

    return dg.AssetKey(key)


# ---------------------------------------------------------------------------------------------
# storage


@scenario("storage_components", "storage")
def storage_components(instance, ctx: Ctx):
    """Which components the instance wires up and how it describes its storage."""
    for member in ("run_storage", "event_log_storage", "schedule_storage", "compute_log_manager",
                   "run_launcher", "run_coordinator", "scheduler", "daemon_cursor_storage"):
        ctx.step(member, lambda m=member: type(getattr(instance, m)).__name__)
    ctx.step("is_persistent", lambda: instance.is_persistent)
    ctx.step("is_ephemeral", lambda: instance.is_ephemeral)
    ctx.step("root_directory", lambda: instance.root_directory)
    ctx.step("storage_directory", instance.storage_directory)
    ctx.step("schedules_directory", instance.schedules_directory)
    ctx.step("file_manager_directory", instance.file_manager_directory, "some-run")
    ctx.step("get_ref", lambda: type(instance.get_ref()).__name__)
    ctx.step("info_dict_keys", lambda: sorted(instance.info_dict().keys()))
    ctx.step("scheduler_class", lambda: instance.scheduler_class)
    return ctx.results


@scenario("storage_wipe", "storage")
def storage_wipe(instance, ctx: Ctx):
    """Runs and events disappear after wipe(); the storage keeps working afterwards."""
    job = _ops_job()
    run = ctx.step("create", instance.create_run_for_job, job, tags={"k": "v"})
    instance.report_engine_event("before wipe", run)
    ctx.step("count_before", instance.get_runs_count)
    ctx.step("wipe", instance.wipe)
    ctx.step("count_after", instance.get_runs_count)
    ctx.step("logs_after_wipe", lambda: len(instance.all_logs(run.run_id)))
    ctx.step("create_again", lambda: instance.create_run_for_job(job).status)
    return ctx.results


@scenario("storage_lifecycle", "storage")
def storage_lifecycle(instance, ctx: Ctx):
    """The instance as a context manager and its disposal: what `__enter__` returns, `with`
    blocks left normally and by an exception (which must propagate), `dispose()` once and
    twice, and what the instance still answers afterwards (callers and dagster-cloud-style
    `dispose` overrides calling `super()` rely on each)."""
    job = _ops_job("lifecycle_job")
    instance.create_run_for_job(job)
    ctx.step("enter_returns_self", lambda: instance.__enter__() is instance)
    ctx.step("exit_returns", instance.__exit__, None, None, None)

    def with_block():
        with instance as inside:
            return inside is instance, inside.get_runs_count()

    ctx.step("with_block", with_block)

    def with_raising():
        with instance:
            raise KeyError("raised inside the block")

    ctx.step("with_raising", with_raising)
    ctx.step("dispose_once", instance.dispose)
    ctx.step("dispose_twice", instance.dispose)
    ctx.step("count_after_dispose", instance.get_runs_count)
    ctx.step("create_after_dispose", lambda: instance.create_run_for_job(job).status)
    return ctx.results


# ---------------------------------------------------------------------------------------------
# runs


@scenario("runs_lifecycle", "runs")
def runs_lifecycle(instance, ctx: Ctx):
    """Create, query, tag, filter and delete runs."""
    from dagster._core.storage.dagster_run import RunsFilter

    job = _ops_job()
    r1 = ctx.step("create_1", instance.create_run_for_job, job, tags={"team": "a"}, run_config={})
    r2 = ctx.step("create_2", instance.create_run_for_job, job, tags={"team": "b"})
    ctx.step("get_run_by_id", instance.get_run_by_id, r1.run_id)
    ctx.step("has_run", instance.has_run, r1.run_id)
    ctx.step("has_missing_run", instance.has_run, "00000000-0000-0000-0000-000000000000")
    ctx.step("add_run_tags", instance.add_run_tags, r1.run_id, {"extra": "1"})
    ctx.step("tags_after", lambda: dict(instance.get_run_by_id(r1.run_id).tags))
    ctx.step("get_run_tag_keys", lambda: sorted(instance.get_run_tag_keys()))
    ctx.step("get_run_tags", lambda: sorted((k, sorted(v)) for k, v in instance.get_run_tags(["team"])))
    ctx.step("filter_team_a", lambda: [r.run_id for r in instance.get_runs(filters=RunsFilter(tags={"team": "a"}))])
    ctx.step("count", instance.get_runs_count)
    # default order (newest first): callers and overrides that omit `ascending` rely on it
    ctx.step("runs_default_order", lambda: [r.run_id for r in instance.get_runs()])
    ctx.step("runs_ascending", lambda: [r.run_id for r in instance.get_runs(ascending=True)])
    ctx.step("run_ids", lambda: instance.get_run_ids(limit=10))
    ctx.step("record_status", lambda: instance.get_run_record_by_id(r2.run_id).dagster_run.status)
    ctx.step("get_run_group", instance.get_run_group, r1.run_id)
    instance.report_engine_event("about to be deleted", r2)
    ctx.step("delete", instance.delete_run, r2.run_id)
    ctx.step("has_deleted", instance.has_run, r2.run_id)
    ctx.step("get_deleted", instance.get_run_by_id, r2.run_id)
    ctx.step("bad_add_run_tags", instance.add_run_tags, "no-such-run", {"x": "y"})
    return ctx.results


@scenario("runs_status_events", "runs")
def runs_status_events(instance, ctx: Ctx):
    """Status transitions reported through the instance and the events they store."""
    job = _ops_job()
    r1 = instance.create_run_for_job(job)
    ctx.step("canceling", instance.report_run_canceling, r1, message="stop please")
    ctx.step("canceled", lambda: instance.report_run_canceled(instance.get_run_by_id(r1.run_id), message="stopped").event_type_value)
    ctx.step("status_1", lambda: instance.get_run_by_id(r1.run_id).status)
    r2 = instance.create_run_for_job(job)
    ctx.step("failed", lambda: instance.report_run_failed(r2, message="it broke").event_type_value)
    ctx.step("status_2", lambda: instance.get_run_by_id(r2.run_id).status)
    ctx.step("engine_event", lambda: instance.report_engine_event("hello", r2).event_type_value)
    ctx.step("events_2", lambda: [e.dagster_event.event_type_value for e in instance.all_logs(r2.run_id)])
    ctx.step("run_stats_2", lambda: instance.get_run_stats(r2.run_id).steps_failed)
    r3 = instance.create_run_for_job(job)
    instance.report_run_canceling(r3)  # no message: the base's default text
    ctx.step("canceling_default_message", lambda: [e.dagster_event.message for e in instance.all_logs(r3.run_id)
                                                   if e.dagster_event][-1:])
    ctx.step("will_resume", instance.run_will_resume, r2.run_id)
    ctx.step("resume_attempts", instance.count_resume_run_attempts, r2.run_id)
    return ctx.results


@scenario("runs_reexecution_group", "runs")
def runs_reexecution_group(instance, ctx: Ctx):
    """Parent/root run ids form a run group."""
    job = _ops_job()
    root = instance.create_run_for_job(job, tags={"attempt": "0"})
    child = ctx.step("child", instance.create_run_for_job, job, root_run_id=root.run_id,
                     parent_run_id=root.run_id, tags={"attempt": "1"})
    ctx.step("grandchild", instance.create_run_for_job, job, root_run_id=root.run_id,
             parent_run_id=child.run_id, tags={"attempt": "2"})
    ctx.step("group", lambda: (lambda g: (g[0], sorted(r.tags["attempt"] for r in g[1])))(instance.get_run_group(child.run_id)))
    ctx.step("group_missing", instance.get_run_group, "00000000-0000-0000-0000-000000000001")
    return ctx.results


@scenario("runs_submit_and_launch", "runs")
def runs_submit_and_launch(instance, ctx: Ctx):
    """Submit and launch runs through the instance: run coordinator, then run launcher."""
    import dagster as dg

    from compat.behaviour import defs

    recon = dg.reconstructable(defs.launched_job)
    job = defs.launched_job
    ctx.step("launcher", lambda: type(instance.run_launcher).__name__)
    ctx.step("coordinator", lambda: type(instance.run_coordinator).__name__)
    r1 = instance.create_run_for_job(job, job_code_origin=recon.get_python_origin(), tags={"via": "launch"})
    ctx.step("launch", lambda: instance.launch_run(r1.run_id, None).status)
    ctx.step("launched_status", lambda: instance.get_run_by_id(r1.run_id).status)
    ctx.step("failure_messages", lambda: [e.user_message.split("\n")[0] for e in instance.all_logs(r1.run_id)
                                          if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_FAILURE"])
    ctx.step("launched_events", lambda: [e.dagster_event.event_type_value for e in instance.all_logs(r1.run_id)
                                         if e.dagster_event])
    mods = ("dagster._core.remote_origin", "dagster._core.remote_representation.origin")
    remote_origin = _import("RemoteJobOrigin", *mods)(_origin("launched_job").repository_origin, job.name)
    r2 = instance.create_run_for_job(job, job_code_origin=recon.get_python_origin(), tags={"via": "submit"},
                                     remote_job_origin=remote_origin)
    ctx.step("submit", lambda: instance.submit_run(r2.run_id, None).status)
    ctx.step("submitted_status", lambda: instance.get_run_by_id(r2.run_id).status)
    ctx.step("launch_missing", instance.launch_run, "00000000-0000-0000-0000-000000000002", None)
    return ctx.results


# ---------------------------------------------------------------------------------------------
# assets


@scenario("assets_materializations", "assets")
def assets_materializations(instance, ctx: Ctx):
    """Runless materializations: keys, latest events, records, wiping."""
    import dagster as dg

    a, b = _asset("alpha"), _asset(["group", "beta"])
    ctx.step("report_a1", instance.report_runless_asset_event, dg.AssetMaterialization(a, metadata={"n": 1}))
    ctx.step("report_a2", instance.report_runless_asset_event, dg.AssetMaterialization(a, metadata={"n": 2}))
    ctx.step("report_b", instance.report_runless_asset_event, dg.AssetMaterialization(b, description="beta"))
    ctx.step("all_asset_keys", lambda: sorted(k.to_user_string() for k in instance.all_asset_keys()))
    ctx.step("get_asset_keys_prefix", lambda: [k.to_user_string() for k in instance.get_asset_keys(prefix=["group"])])
    ctx.step("has_a", instance.has_asset_key, a)
    ctx.step("latest_a_metadata", lambda: instance.get_latest_materialization_event(a).asset_materialization.metadata)
    ctx.step("fetch_a", lambda: [r.asset_materialization.metadata for r in instance.fetch_materializations(a, limit=10).records])
    ctx.step("asset_records", lambda: sorted(r.asset_entry.asset_key.to_user_string() for r in instance.get_asset_records()))
    ctx.step("code_versions", instance.get_latest_materialization_code_versions, [a])
    ctx.step("wipe_a", instance.wipe_assets, [a])
    ctx.step("has_a_after", instance.has_asset_key, a)
    ctx.step("keys_after", lambda: sorted(k.to_user_string() for k in instance.all_asset_keys()))
    return ctx.results


@scenario("assets_observations", "assets")
def assets_observations(instance, ctx: Ctx):
    """Runless observations and reading them back."""
    import dagster as dg

    k = _asset("observed")
    ctx.step("observe", instance.report_runless_asset_event, dg.AssetObservation(k, metadata={"rows": 10}))
    ctx.step("observe_2", instance.report_runless_asset_event, dg.AssetObservation(k, metadata={"rows": 12}))
    ctx.step("fetch", lambda: [r.asset_observation.metadata for r in instance.fetch_observations(k, limit=5).records])
    ctx.step("has", instance.has_asset_key, k)
    ctx.step("latest_mat", instance.get_latest_materialization_event, k)
    ctx.step("bad_event", instance.report_runless_asset_event, "not an event")
    return ctx.results


# ---------------------------------------------------------------------------------------------
# events / logging


@scenario("events_logging", "events")
def events_logging(instance, ctx: Ctx):
    """Engine events, raw log entries, listeners and the reading APIs."""
    import logging

    from dagster._core.events.log import EventLogEntry

    job = _ops_job()
    run = instance.create_run_for_job(job)
    seen: list[str] = []
    ctx.step("add_listener", instance.add_event_listener, run.run_id, lambda e: seen.append(e.user_message))
    ctx.step("engine_1", lambda: instance.report_engine_event("first", run).event_type_value)
    entry = EventLogEntry(None, logging.INFO, "a plain log line", run.run_id, FIXED_TS, job_name=job.name)
    ctx.step("should_store", instance.should_store_event, entry)
    ctx.step("handle_new_event", instance.handle_new_event, entry)
    ctx.step("store_event", instance.store_event,
             EventLogEntry(None, logging.WARNING, "stored directly", run.run_id, FIXED_TS + 1, job_name=job.name))
    ctx.step("engine_2", lambda: instance.report_engine_event("second", dagster_run=None, job_name=job.name, run_id=run.run_id).event_type_value)
    ctx.step("engine_bad", instance.report_engine_event, "no run given")
    ctx.step("listener_saw", lambda: list(seen))
    ctx.step("all_logs", lambda: [(e.user_message, e.level) for e in instance.all_logs(run.run_id)])
    ctx.step("logs_after_1", lambda: [e.user_message for e in instance.logs_after(run.run_id, cursor=1)])
    ctx.step("records_for_run", lambda: [r.event_log_entry.user_message for r in instance.get_records_for_run(run.run_id, limit=2).records])
    return ctx.results


@scenario("arguments_non_default", "events")
def arguments_non_default(instance, ctx: Ctx):
    """Calls that pass what no other scenario passes, with values other than the defaults: a
    base that drops or ignores one of them (a filter, a limit, a cursor, `ascending`,
    `bucket_by`, `of_type`, an event class) returns something else here."""
    from dagster._core.event_api import EventRecordsFilter
    from dagster._core.events import DagsterEventType
    from dagster._core.storage.dagster_run import JobBucket, RunsFilter, TagBucket

    job, other = _ops_job("args_job"), _ops_job("args_other")
    runs = [instance.create_run_for_job(j, tags={"team": t}) for j, t in
            ((job, "a"), (job, "b"), (other, "a"), (job, "a"))]
    ids = {r.run_id: f"run{i}" for i, r in enumerate(runs)}  # run ids differ per recording

    def named(records):
        return [ids.get(getattr(r, "run_id", None) or r.dagster_run.run_id, "?") for r in records]

    def text(entry):  # an engine event's text is its event's message
        return entry.dagster_event.message if entry.dagster_event else entry.user_message

    ctx.step("runs_limit_ascending", lambda: named(instance.get_runs(limit=2, ascending=True)))
    ctx.step("runs_cursor", lambda: named(instance.get_runs(cursor=runs[2].run_id, limit=5)))
    ctx.step("runs_bucket_job", lambda: named(instance.get_runs(bucket_by=JobBucket(job_names=["args_job", "args_other"],
                                                                                      bucket_limit=1))))
    ctx.step("runs_bucket_tag", lambda: named(instance.get_runs(bucket_by=TagBucket(tag_key="team", tag_values=["a", "b"],
                                                                                      bucket_limit=1))))
    ctx.step("run_records_bucket", lambda: named(instance.get_run_records(
        filters=RunsFilter(job_name="args_job"), bucket_by=TagBucket(tag_key="team", tag_values=["a"], bucket_limit=1))))
    ctx.step("run_records_order", lambda: named(instance.get_run_records(limit=3, order_by="create_timestamp",
                                                                           ascending=True)))
    ctx.step("run_ids_cursor", lambda: [ids.get(i, "?") for i in instance.get_run_ids(cursor=runs[3].run_id, limit=2)])
    run = runs[0]
    ctx.step("engine_cls", lambda: instance.report_engine_event("with a class", run, cls=DagsterEventType).message)
    ctx.step("engine_step", lambda: instance.report_engine_event("of a step", run, step_key="double").step_key)
    ctx.step("logs_of_type", lambda: [text(e) for e in instance.logs_after(run.run_id, cursor=-1,
                                                                        of_type=DagsterEventType.ENGINE_EVENT)])
    ctx.step("logs_limit", lambda: [text(e) for e in instance.logs_after(run.run_id, cursor=-1, limit=1)])
    ctx.step("records_of_type", lambda: [text(r.event_log_entry) for r in instance.get_records_for_run(
        run.run_id, of_type={DagsterEventType.ENGINE_EVENT}, ascending=False).records])
    ctx.step("event_records_asc", lambda: [text(r.event_log_entry) for r in instance.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ENGINE_EVENT), limit=2, ascending=True)])
    ctx.step("daemon_statuses", lambda: sorted((k, s.required) for k, s in instance.get_daemon_statuses(
        ["SENSOR", "SCHEDULER", "BACKFILL", "ASSET"]).items()))
    ctx.step("has_missing_snapshot", instance.has_snapshot, "0" * 40)
    # a member older releases lack (1.11.4): looked up inside the step, so that its absence is
    # the step's AttributeError and the rest of the scenario still runs there
    ctx.step("dynamic_existing", _value_of, instance, "get_existing_dynamic_partitions", "no_such_def", ["a", "b"])
    instance.add_dynamic_partitions("args_def", ["a", "c"])
    ctx.dynamic_partition_names.add("args_def")
    ctx.step("dynamic_existing_some", _value_of, instance, "get_existing_dynamic_partitions", "args_def",
             ["a", "b", "c"])
    # the caching loader the asset daemons wrap an instance in (not in every release)
    ctx.step("dynamic_loader_existing", lambda: _value_of(_import(
        "CachingDynamicPartitionsLoader", "dagster._core.instance.types", "dagster._utils.caching_instance_queryer")(
        instance), "get_existing_dynamic_partitions", "args_def", ["c", "b", "a"]))
    # a selection passed through create_run_for_job to the run it creates
    ctx.step("selection_forwarded", lambda: (lambda r: (r.op_selection, r.resolved_op_selection))(
        instance.create_run_for_job(job, op_selection=["emit", "double"], resolved_op_selection={"emit", "double"})))
    return ctx.results


@scenario("arguments_cursors_and_filters", "assets")
def arguments_cursors_and_filters(instance, ctx: Ctx):
    """The second half of the arguments no other scenario passes: cursors taken from a first page,
    `ascending`, limits, tag and status filters, of assets, runs, ticks, instigators, backfills and
    partitions; and the run-event handler and asset status cache no scenario reaches otherwise.
    Members a release lacks are looked up inside their step (recorded as its AttributeError)."""
    import dagster as dg
    from dagster._core.events import DagsterEventType
    from dagster._core.storage.dagster_run import RunsFilter

    a = _asset("cursor_asset")
    for n in range(3):
        instance.report_runless_asset_event(dg.AssetMaterialization(a, partition=f"p{n}",
                                                                    tags={"dagster/data_version": f"v{n}"}))
        instance.report_runless_asset_event(dg.AssetObservation(a, partition=f"p{n}", metadata={"n": n}))
    instance.report_runless_asset_event(dg.AssetMaterialization(_asset("cursor_other")))

    def paged(name, *args):
        """The oldest record, then the rest after its cursor: each in ascending order."""
        first = _value_of(instance, name, *args, limit=1, ascending=True)
        rest = _value_of(instance, name, *args, limit=5, cursor=first.cursor, ascending=True)
        return [r.partition_key for r in first.records], [r.partition_key for r in rest.records], rest.has_more

    for name in ("fetch_materializations", "fetch_observations", "fetch_planned_materializations",
                 "fetch_failed_materializations"):
        ctx.step(f"{name}:paged", paged, name, a)
    keys = ctx.step("asset_keys_limit", lambda: [k.to_user_string() for k in instance.get_asset_keys(limit=1)])
    ctx.step("asset_keys_cursor", lambda: [k.to_user_string() for k in instance.get_asset_keys(
        cursor=dg.AssetKey(keys[0]).to_string() if keys else None)])
    latest = instance.fetch_materializations(a, limit=1).records[0].storage_id
    ctx.step("materialized_partitions_before", lambda: sorted(instance.get_materialized_partitions(
        a, before_cursor=latest)))
    ctx.step("materialized_partitions_after", lambda: sorted(instance.get_materialized_partitions(
        a, after_cursor=latest - 1)))
    ctx.step("storage_id_by_partition", lambda: sorted(instance.get_latest_storage_id_by_partition(
        a, DagsterEventType.ASSET_MATERIALIZATION, partitions={"p0", "p2"}, after_cursor=0)))
    ctx.step("event_tags_filtered", lambda: [dict(x) for x in instance.get_event_tags_for_asset(
        a, filter_tags={"dagster/data_version": "v1"})])
    ctx.step("data_version_of_partition", lambda: (lambda r: r and r.partition_key)(
        instance.get_latest_data_version_record(a, is_source=False, partition_key="p1")))
    ctx.step("data_version_before", lambda: (lambda r: r and r.partition_key)(
        instance.get_latest_data_version_record(a, before_cursor=latest)))
    ctx.step("data_version_after", lambda: (lambda r: r and r.partition_key)(
        instance.get_latest_data_version_record(a, after_cursor=latest)))
    ctx.step("event_summaries_window", lambda: len(_value_of(
        instance, "get_asset_event_summary_records", DagsterEventType.ASSET_MATERIALIZATION, asset_key=a,
        after_storage_id=0, before_storage_id=latest, limit=5, ascending=True)))
    ctx.step("event_summaries_of_ids", lambda: len(_value_of(
        instance, "get_asset_event_summary_records", DagsterEventType.ASSET_MATERIALIZATION,
        storage_ids=[latest])))
    ctx.step("event_tags_of_event", lambda: [dict(x) for x in instance.get_event_tags_for_asset(
        a, filter_event_id=latest)])

    job = _ops_job("cursor_job")
    runs = [instance.create_run_for_job(job, tags={"team": t}) for t in ("alpha", "beta", "alps")]
    ids = {r.run_id: f"run{i}" for i, r in enumerate(runs)}
    ctx.step("created_queued", lambda: instance.create_run_for_job(job, status="QUEUED").status)
    ctx.step("run_ids_filtered", lambda: [ids.get(i, "?") for i in instance.get_run_ids(
        filters=RunsFilter(tags={"team": "beta"}))])
    ctx.step("run_records_cursor", lambda: [ids.get(r.dagster_run.run_id, "?") for r in instance.get_run_records(
        cursor=runs[2].run_id, limit=5)])
    ctx.step("run_tags_prefix", lambda: sorted((k, sorted(v)) for k, v in instance.get_run_tags(
        tag_keys=["team"], value_prefix="al", limit=2)))
    executed = job.execute_in_process(instance=instance).run_id
    job.execute_in_process(instance=instance)
    ctx.step("fetch_run_status_changes:paged", lambda: (lambda first: (len(first.records), len(
        instance.fetch_run_status_changes(DagsterEventType.RUN_SUCCESS, limit=5, cursor=first.cursor,
                                          ascending=True).records)))(
        instance.fetch_run_status_changes(DagsterEventType.RUN_SUCCESS, limit=1, ascending=True)))
    ctx.step("step_stats_of_keys", lambda: [s.step_key for s in instance.get_run_step_stats(
        executed, step_keys=["double"])])
    page = instance.get_records_for_run(executed, limit=2)
    ctx.step("records_for_run_cursor", lambda: [r.event_log_entry.dagster_event.event_type_value
                                                for r in instance.get_records_for_run(executed, cursor=page.cursor,
                                                                                      limit=2).records])
    ctx.step("report_dagster_event_at", lambda: (lambda e: (e.timestamp == FIXED_TS + 7, e.dagster_event.message))(
        _report_at(instance, runs[0], dg)))
    ctx.step("handle_run_event", lambda: _handle_run_start(instance, runs[1]))
    ctx.step("status_after_handle", lambda: instance.get_run_by_id(runs[1].run_id).status)

    if ctx.step("has_schedule_storage", lambda: instance.schedule_storage is not None):
        _ticks_and_instigators(instance, ctx)
    ctx.dynamic_partition_names.add("cursor_fruits")
    instance.add_dynamic_partitions("cursor_fruits", ["a", "b", "c", "d"])
    ctx.step("dynamic_paginated", lambda: (lambda first: (list(first.results), list(_value_of(
        instance, "get_paginated_dynamic_partitions", "cursor_fruits", 2, True, first.cursor).results)))(
        instance.get_paginated_dynamic_partitions("cursor_fruits", limit=2, ascending=True)))
    return ctx.results


def _ticks_and_instigators(instance, ctx: Ctx) -> None:
    """Tick and instigator reads with time windows, limits and status filters (a schedule storage
    is needed: the in-memory instance has none)."""
    from dagster._core.scheduler.instigation import (
        InstigatorState, InstigatorStatus, InstigatorType, SensorInstigatorData, TickData, TickStatus,
    )

    origin = _origin("cursor_sensor")
    state = InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus.RUNNING,
                            SensorInstigatorData(cursor="c0", min_interval=30))
    instance.add_instigator_state(state)
    ids_of = (origin.get_id(), state.selector_id)
    for i, status in enumerate((TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.SUCCESS)):
        instance.create_tick(TickData(instigator_origin_id=origin.get_id(), instigator_name="cursor_sensor",
                                      instigator_type=InstigatorType.SENSOR, status=status,
                                      timestamp=FIXED_TS + i, selector_id=state.selector_id, run_ids=[]))
    ctx.step("ticks_before_after", lambda: [t.timestamp - FIXED_TS for t in instance.get_ticks(
        *ids_of, before=FIXED_TS + 3, after=FIXED_TS)])
    ctx.step("batch_ticks_filtered", lambda: {k: [t.status.value for t in v] for k, v in instance.get_batch_ticks(
        [state.selector_id], limit=1, statuses=[TickStatus.SKIPPED]).items()})
    ctx.step("tick_summaries", lambda: [t.timestamp - FIXED_TS for t in _value_of(
        instance, "get_tick_summaries", *ids_of, before=FIXED_TS + 3, after=FIXED_TS, limit=1,
        statuses=[TickStatus.SKIPPED])])
    ctx.step("purge_ticks_of_status", instance.purge_ticks, *ids_of, FIXED_TS + 10, [TickStatus.SKIPPED])
    ctx.step("ticks_after_purge", lambda: [t.status.value for t in instance.get_ticks(*ids_of)])
    repo = origin.repository_origin
    ctx.step("instigators_filtered", lambda: [s.instigator_name for s in instance.all_instigator_state(
        repository_origin_id=repo.get_id(), repository_selector_id=state.repository_selector_id,
        instigator_statuses={InstigatorStatus.RUNNING})])
    ctx.step("instigators_other_repo", lambda: [s.instigator_name for s in instance.all_instigator_state(
        repository_origin_id="no-repo")])


def _report_at(instance, run, dg):
    """An engine event reported with an explicit timestamp (the parameter no other call passes)."""
    import logging

    from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData

    event = DagsterEvent(DagsterEventType.ENGINE_EVENT.value, job_name=run.job_name, message="at a time",
                         event_specific_data=EngineEventData())
    instance.report_dagster_event(event, run.run_id, logging.INFO, timestamp=FIXED_TS + 7)
    return [e for e in instance.all_logs(run.run_id) if e.dagster_event][-1]


def _handle_run_start(instance, run):
    import datetime

    from dagster._core.events import DagsterEvent, DagsterEventType

    event = DagsterEvent(DagsterEventType.RUN_START.value, job_name=run.job_name)
    at = datetime.datetime.fromtimestamp(FIXED_TS + 8, tz=datetime.timezone.utc)
    return instance.handle_run_event(run.run_id, event, at) if "update_timestamp" in \
        __import__("inspect").signature(instance.handle_run_event).parameters else instance.handle_run_event(
            run.run_id, event)


@scenario("runs_rarely_called", "runs")
def runs_rarely_called(instance, ctx: Ctx):
    """Members no other scenario executes, as far as they run without a code server: resuming a
    run that does not exist or is not in progress, re-executing without a code location,
    starting, stopping and resetting schedules and sensors without one, an op selection that is
    not a list; watching a run's events (in memory: sqlite watches from a thread); the asset
    status cache, the status by partition, the event buffer and the component info text. Each
    is recorded with its refusal: a base that stops refusing, refuses with another class, or
    warns on entry, changes a step."""
    import dagster as dg

    job = _ops_job("rare_job")
    waiting = instance.create_run_for_job(job, run_id="00000000-0000-0000-0000-00000000000b")
    ctx.step("resume_missing", instance.resume_run, MISSING_RUN, None, 1)
    ctx.step("resume_not_in_progress", instance.resume_run, waiting.run_id, None, 1)
    ctx.step("reexecute_without_location", lambda: instance.create_reexecuted_run(
        parent_run=waiting, code_location=None, remote_job=None, strategy=None, request_context=None))
    for name in ("start_schedule", "reset_schedule", "start_sensor", "reset_sensor"):
        ctx.step(f"{name}:None", _value_of, instance, name, None)
    ctx.step("submit_without_origin", lambda: instance.submit_run(waiting.run_id, None).status)
    ctx.step("op_selection_not_a_list", lambda: instance.create_run_for_job(job, op_selection="emit").op_selection)
    if ctx.storage == "memory":
        seen: list[str] = []

        def watcher(event, cursor):
            seen.append(event.user_message if event.dagster_event is None else event.dagster_event.message)

        ctx.step("watch_event_logs", instance.watch_event_logs, waiting.run_id, None, watcher)
        instance.report_engine_event("while watched", waiting)
        ctx.step("end_watch_event_logs", instance.end_watch_event_logs, waiting.run_id, watcher)
        instance.report_engine_event("after the watch", waiting)
        ctx.step("watched", lambda: list(seen))
    key = dg.AssetKey("rare_status")
    parts = dg.StaticPartitionsDefinition(["a", "b"])
    ctx.step("status_by_partition", _value_of, instance, "get_status_by_partition", key, ["a"], parts)
    ctx.step("update_cached_status:None", _value_of, instance, "update_asset_cached_status_data", key, None)
    ctx.step("event_buffer", lambda: dict(_value_of(instance, "_event_buffer_impl")))
    ctx.step("info_str_for_component", _value_of, instance, "_info_str_for_component", "compat", {"b": 2, "a": [1]})
    return ctx.results


@scenario("assets_rarely_called", "assets")
def assets_rarely_called(instance, ctx: Ctx):
    """Members no other scenario executes (coverage): per-run asset lookups, health and
    freshness reads, the asset-check and streamline switches, tick summaries, stopping an
    instigator nobody started, and a managed run registered by id. A member a release lacks is
    recorded as the exception its lookup raises."""
    import dagster as dg

    @dg.asset(name="rare_asset")
    def rare_asset() -> int:
        return 1

    key = dg.AssetKey("rare_asset")
    result = dg.materialize([rare_asset], instance=instance)
    run_id = result.run_id
    ctx.step("asset_keys_for_run", lambda: _value_of(instance, "get_asset_keys_for_run", run_id))
    ctx.step("asset_partitions_for_run", lambda: _value_of(instance, "get_asset_partitions_for_run", run_id))
    for name in ("get_default_graphql_run_records_limit", "get_run_size_limit_bytes", "get_asset_check_support",
                 "legacy_freshness_policy_killswitch_enabled", "supports_wipe_on_delete_for_multipartitioned_assets"):
        ctx.step(name, _value_of, instance, name)
    for stream in ("asset-materialization-health", "asset-check-health", "asset-freshness-health"):
        ctx.step(f"streamline_supported:{stream}", _value_of, instance, "streamline_read_asset_health_supported", stream)
        ctx.step(f"streamline_required:{stream}", _value_of, instance, "streamline_read_asset_health_required", stream)
    ctx.step("latest_check_evaluation", lambda: _value_of(instance, "get_latest_asset_check_evaluation_record",
                                                          dg.AssetCheckKey(key, "no_such_check")))
    for name in ("get_freshness_state_records", "get_asset_materialization_health_state_for_assets",
                 "get_minimal_asset_materialization_health_state_for_assets",
                 "get_asset_check_health_state_for_assets", "get_asset_freshness_health_state_for_assets"):
        ctx.step(name, lambda n=name: _value_of(instance, n, [key]))

    def summaries():
        from dagster._core.events import DagsterEventType

        return [(r.run_id == run_id, type(r).__name__) for r in instance.get_asset_event_summary_records(
            DagsterEventType.ASSET_MATERIALIZATION, asset_key=key, limit=1, ascending=True)]

    ctx.step("asset_event_summaries", summaries)
    ctx.step("tick_summaries", _value_of, instance, "get_tick_summaries", "no-origin", "no-selector")
    ctx.step("stop_unknown_sensor", lambda: _value_of(instance, "stop_sensor", "no-origin", "no-selector", None))
    ctx.step("stop_unknown_schedule", lambda: _value_of(instance, "stop_schedule", "no-origin", "no-selector", None))
    ctx.step("register_managed_run", lambda: instance.register_managed_run(
        "managed_job", "00000000-0000-0000-0000-00000000000a", {}, None, None, {"managed": "yes"}, None, None,
        None, None, None).tags)
    # the same id again: the run it holds (dagster 1.13.29 raises a ValueError comparing the two
    # runs before it can tell a conflict, so its DagsterRunConflict cannot be reached)
    ctx.step("register_managed_run_again", lambda: instance.register_managed_run(
        "managed_job", "00000000-0000-0000-0000-00000000000a", {}, None, None, {"managed": "yes"}, None, None,
        None, None, None).tags)
    return ctx.results


@scenario("events_records_queries", "events")
def events_records_queries(instance, ctx: Ctx):
    """Event record queries across runs after real executions."""
    from dagster._core.event_api import EventRecordsFilter
    from dagster._core.events import DagsterEventType

    job = _ops_job("query_job")
    job.execute_in_process(instance=instance)
    job.execute_in_process(instance=instance, tags={"second": "yes"})
    ctx.step("success_records", lambda: len(instance.get_event_records(EventRecordsFilter(event_type=DagsterEventType.RUN_SUCCESS))))
    ctx.step("status_changes", lambda: [r.event_log_entry.dagster_event.event_type_value for r in instance.fetch_run_status_changes(DagsterEventType.RUN_START, limit=5).records])
    ctx.step("step_success_count", lambda: len(instance.get_event_records(EventRecordsFilter(event_type=DagsterEventType.STEP_SUCCESS), limit=100)))
    return ctx.results


# ---------------------------------------------------------------------------------------------
# schedules & sensors


@scenario("schedules_instigator_state", "schedules")
def schedules_instigator_state(instance, ctx: Ctx):
    """Schedule state and ticks through the instance's instigator APIs."""
    from dagster._core.scheduler.instigation import (
        InstigatorState, InstigatorStatus, InstigatorType, ScheduleInstigatorData, TickData, TickStatus,
    )

    origin = _origin("daily_schedule")
    state = InstigatorState(origin, InstigatorType.SCHEDULE, InstigatorStatus.RUNNING,
                            ScheduleInstigatorData("0 0 * * *", start_timestamp=FIXED_TS))
    ctx.step("add", lambda: instance.add_instigator_state(state).status)
    ctx.step("get", lambda: instance.get_instigator_state(origin.get_id(), state.selector_id).status)
    ctx.step("update", lambda: instance.update_instigator_state(state.with_status(InstigatorStatus.STOPPED)).status)
    ctx.step("all", lambda: [s.instigator_name for s in instance.all_instigator_state()])
    tick = ctx.step("create_tick", instance.create_tick, TickData(
        instigator_origin_id=origin.get_id(), instigator_name="daily_schedule",
        instigator_type=InstigatorType.SCHEDULE, status=TickStatus.STARTED, timestamp=FIXED_TS,
        selector_id=state.selector_id))
    ctx.step("update_tick", lambda: instance.update_tick(tick.with_status(TickStatus.SUCCESS)).status)
    ctx.step("ticks", lambda: [t.status for t in instance.get_ticks(origin.get_id(), state.selector_id)])
    ctx.step("get_tick", lambda: instance.get_tick(origin.get_id(), state.selector_id, FIXED_TS).status)
    ctx.step("supports_batch", lambda: instance.supports_batch_tick_queries)
    # the sequences as the base builds them: a caller appending to `errors` needs a list
    ctx.step("scheduler_debug_info", lambda: (lambda d: {"config": d.scheduler_config_info,
                                                         "storage": d.schedule_storage,
                                                         "errors": d.errors})(instance.scheduler_debug_info()))
    return ctx.results


@scenario("sensors_instigator_state", "schedules", storages=("sqlite",))
def sensors_instigator_state(instance, ctx: Ctx):
    """Sensor state with a cursor, skipped ticks, deletion and wiping."""
    from dagster._core.scheduler.instigation import (
        InstigatorState, InstigatorStatus, InstigatorType, SensorInstigatorData, TickData, TickStatus,
    )

    origin = _origin("file_sensor")
    state = InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus.RUNNING,
                            SensorInstigatorData(cursor="c0", min_interval=30))
    instance.add_instigator_state(state)
    ctx.step("cursor", lambda: instance.get_instigator_state(origin.get_id(), state.selector_id).instigator_data.cursor)
    for i in range(3):
        tick = instance.create_tick(TickData(
            instigator_origin_id=origin.get_id(), instigator_name="file_sensor",
            instigator_type=InstigatorType.SENSOR, status=TickStatus.STARTED,
            timestamp=FIXED_TS + i, selector_id=state.selector_id))
        instance.update_tick(tick.with_status(TickStatus.SKIPPED, skip_reason=f"nothing new {i}"))
    ctx.step("ticks_limit_2", lambda: [t.skip_reason for t in instance.get_ticks(origin.get_id(), state.selector_id, limit=2)])
    ctx.step("ticks_skipped", lambda: len(instance.get_ticks(origin.get_id(), state.selector_id, statuses=[TickStatus.SKIPPED])))
    ctx.step("sensor_settings", instance.get_sensor_settings)
    ctx.step("delete", instance.delete_instigator_state, origin.get_id(), state.selector_id)
    ctx.step("after_delete", instance.get_instigator_state, origin.get_id(), state.selector_id)
    ctx.step("wipe_all_schedules", instance.wipe_all_schedules)
    return ctx.results


# ---------------------------------------------------------------------------------------------
# backfills


@scenario("backfills_crud", "backfills")
def backfills_crud(instance, ctx: Ctx):
    """Add, read, filter and update a backfill."""
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

    bf = PartitionBackfill(
        backfill_id="compatbf", status=BulkActionStatus.REQUESTED, from_failure=False,
        tags={"who": "compat"}, backfill_timestamp=FIXED_TS, asset_selection=[_asset("alpha")],
        partition_names=["2024-01-01", "2024-01-02"],
    )
    ctx.step("add", instance.add_backfill, bf)
    later = PartitionBackfill(
        backfill_id="compatbf2", status=BulkActionStatus.REQUESTED, from_failure=False, tags={},
        backfill_timestamp=FIXED_TS + 1, asset_selection=[_asset("alpha")], partition_names=["2024-01-03"],
    )
    ctx.step("add_second", instance.add_backfill, later)
    ctx.step("list_all", lambda: [b.backfill_id for b in instance.get_backfills()])
    ctx.step("get", lambda: instance.get_backfill("compatbf").status)
    ctx.step("get_missing", instance.get_backfill, "nobackfill")
    ctx.step("list_requested", lambda: [b.backfill_id for b in instance.get_backfills(status=BulkActionStatus.REQUESTED)])
    ctx.step("count", instance.get_backfills_count)
    ctx.step("update", instance.update_backfill, bf.with_status(BulkActionStatus.COMPLETED_SUCCESS))
    ctx.step("get_after", lambda: instance.get_backfill("compatbf").status)
    ctx.step("backfill_settings", instance.get_backfill_settings)
    # a filter, a cursor and a limit: each changes which backfills come back
    from dagster._core.execution.backfill import BulkActionsFilter

    done = BulkActionsFilter(statuses=[BulkActionStatus.COMPLETED_SUCCESS])
    ctx.step("list_filtered", lambda: [b.backfill_id for b in instance.get_backfills(filters=done)])
    ctx.step("count_filtered", instance.get_backfills_count, done)
    ctx.step("list_after_cursor", lambda: [b.backfill_id for b in instance.get_backfills(cursor="compatbf2", limit=1)])
    return ctx.results


# ---------------------------------------------------------------------------------------------
# partitions


@scenario("partitions_dynamic", "partitions")
def partitions_dynamic(instance, ctx: Ctx):
    """Dynamic partitions: add (with duplicates), read, page, check, delete."""
    ctx.dynamic_partition_names.add("fruits")
    ctx.step("add", instance.add_dynamic_partitions, "fruits", ["apple", "banana", "cherry"])
    ctx.step("add_dup", instance.add_dynamic_partitions, "fruits", ["banana", "date"])
    ctx.step("get", instance.get_dynamic_partitions, "fruits")
    ctx.step("has_banana", instance.has_dynamic_partition, "fruits", "banana")
    ctx.step("has_kiwi", instance.has_dynamic_partition, "fruits", "kiwi")
    ctx.step("paginated", lambda: list(instance.get_paginated_dynamic_partitions("fruits", limit=2, ascending=True).results))
    ctx.step("delete", instance.delete_dynamic_partition, "fruits", "apple")
    ctx.step("get_after", instance.get_dynamic_partitions, "fruits")
    ctx.step("get_unknown", instance.get_dynamic_partitions, "vegetables")
    return ctx.results


@scenario("partitions_materialized", "partitions")
def partitions_materialized(instance, ctx: Ctx):
    """Partitioned runless materializations and partition-level wiping."""
    import dagster as dg

    k = _asset("daily")
    for p in ("2024-01-01", "2024-01-02", "2024-01-03"):
        instance.report_runless_asset_event(dg.AssetMaterialization(k, partition=p))
    ctx.step("materialized", lambda: sorted(instance.get_materialized_partitions(k)))
    ctx.step("latest_partition", lambda: instance.get_latest_materialization_event(k).dagster_event.partition)
    ctx.step("wipe_partition", instance.wipe_asset_partitions, k, ["2024-01-01"])
    ctx.step("materialized_after", lambda: sorted(instance.get_materialized_partitions(k)))
    return ctx.results


# ---------------------------------------------------------------------------------------------
# configuration & settings

SETTING_READERS = (
    "telemetry_enabled", "nux_enabled", "run_monitoring_enabled", "run_monitoring_settings",
    "run_monitoring_start_timeout_seconds", "run_monitoring_cancel_timeout_seconds",
    "run_monitoring_max_runtime_seconds", "run_monitoring_max_resume_run_attempts",
    "run_monitoring_poll_interval_seconds", "cancellation_thread_poll_interval_seconds",
    "code_server_settings", "code_server_process_startup_timeout", "code_server_reload_timeout",
    "wait_for_local_code_server_processes_on_shutdown", "run_retries_enabled", "run_retries_max_retries",
    "run_retries_retry_on_asset_or_op_failure", "auto_materialize_enabled", "freshness_enabled",
    "auto_materialize_minimum_interval_seconds", "auto_materialize_run_tags",
    "auto_materialize_respect_materialization_data_versions", "auto_materialize_max_tick_retries",
    "auto_materialize_use_sensors", "global_op_concurrency_default_limit", "managed_python_loggers",
    "python_log_level", "daemon_skip_heartbeats_without_errors", "get_required_daemon_types",
    "get_backfill_settings", "get_scheduler_settings", "get_sensor_settings",
    "get_auto_materialize_settings",
)


def _read_settings(instance, ctx: Ctx):
    for name in SETTING_READERS:
        ctx.step(name, lambda n=name: (lambda v: v() if callable(v) else v)(getattr(instance, n)))
    for key in ("telemetry", "run_retries", "run_monitoring", "python_logs", "no_such_section"):
        ctx.step(f"get_settings:{key}", instance.get_settings, key)
    ctx.step("concurrency_config", lambda: type(instance.get_concurrency_config()).__name__)
    return ctx.results


@scenario("configuration_defaults", "configuration")
def configuration_defaults(instance, ctx: Ctx):
    """Every setting reader on an instance with no settings."""
    return _read_settings(instance, ctx)


CUSTOM_SETTINGS = {
    "telemetry": {"enabled": False},
    "run_retries": {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False},
    "run_monitoring": {"enabled": True, "start_timeout_seconds": 60, "poll_interval_seconds": 5,
                       "max_resume_run_attempts": 0},
    "python_logs": {"python_log_level": "WARNING", "managed_python_loggers": ["compat"]},
    "code_servers": {"local_startup_timeout": 99},
    "auto_materialize": {"enabled": False, "run_tags": {"am": "yes"}},
    "nux": {"enabled": False},
}


@scenario("configuration_custom", "configuration", settings=CUSTOM_SETTINGS)
def configuration_custom(instance, ctx: Ctx):
    """Every setting reader on an instance configured with non-default settings."""
    return _read_settings(instance, ctx)


# ---------------------------------------------------------------------------------------------
# monitoring


@scenario("monitoring_heartbeats", "monitoring")
def monitoring_heartbeats(instance, ctx: Ctx):
    """Daemon heartbeats, required daemons and the daemon status computation."""
    from dagster._daemon.controller import get_daemon_statuses
    from dagster._daemon.types import DaemonHeartbeat

    ctx.step("required", instance.get_required_daemon_types)
    ctx.step("add_sensor", instance.add_daemon_heartbeat, DaemonHeartbeat(FIXED_TS, "SENSOR", "d-1", []))
    ctx.step("add_schedule", instance.add_daemon_heartbeat, DaemonHeartbeat(FIXED_TS, "SCHEDULER", "d-1", []))
    ctx.step("heartbeats", lambda: {k: v.daemon_id for k, v in instance.get_daemon_heartbeats().items()})
    ctx.step("statuses", lambda: {k: (s.healthy, s.required) for k, s in get_daemon_statuses(
        instance, ["SENSOR", "SCHEDULER", "BACKFILL"], curr_time_seconds=FIXED_TS + 5).items()})
    ctx.step("wipe", instance.wipe_daemon_heartbeats)
    ctx.step("after_wipe", lambda: sorted(instance.get_daemon_heartbeats()))
    return ctx.results


# ---------------------------------------------------------------------------------------------
# snapshots


@scenario("snapshots_job_and_plan", "snapshots")
def snapshots_job_and_plan(instance, ctx: Ctx):
    """Job and execution-plan snapshots persisted by create_run_for_job."""
    job = _ops_job("snap_job")
    run = instance.create_run_for_job(job)
    ctx.step("has_job_snapshot", instance.has_job_snapshot, run.job_snapshot_id)
    ctx.step("has_snapshot", instance.has_snapshot, run.job_snapshot_id)
    ctx.step("job_snapshot_name", lambda: instance.get_job_snapshot(run.job_snapshot_id).name)
    ctx.step("job_snapshot_ops", lambda: sorted(n.node_name for n in instance.get_job_snapshot(run.job_snapshot_id).dep_structure_snapshot.node_invocation_snaps))
    ctx.step("historical_job", lambda: instance.get_historical_job(run.job_snapshot_id).name)
    ctx.step("has_historical_job", instance.has_historical_job, run.job_snapshot_id)
    ctx.step("plan_steps", lambda: sorted(s.key for s in instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id).steps))
    ctx.step("missing_job_snapshot", instance.get_job_snapshot, "0" * 40)
    return ctx.results


# ---------------------------------------------------------------------------------------------
# end-to-end execution


def _execution_summary(instance, result) -> dict[str, Any]:
    run = instance.get_run_by_id(result.run_id)
    return {
        "success": result.success,
        "status": run.status if run else None,
        "events": [e.event_type_value for e in result.all_events],
    }


@scenario("execute_ops_job", "execution")
def execute_ops_job(instance, ctx: Ctx):
    """An ops job executed in process on the instance."""
    job = _ops_job("e2e_job")
    ctx.step("execute", lambda: _execution_summary(instance, job.execute_in_process(instance=instance, tags={"e2e": "1"})))
    ctx.step("outputs", lambda: job.execute_in_process(instance=instance).output_for_node("report"))
    ctx.step("run_count", instance.get_runs_count)
    return ctx.results


@scenario("execute_failing_step", "execution")
def execute_failing_step(instance, ctx: Ctx):
    """A step that raises: the run fails, failure events are stored, the error is data."""
    job = _ops_job("failing_job", fail=True)
    ctx.step("execute", lambda: _execution_summary(instance, job.execute_in_process(instance=instance, raise_on_error=False)))
    ctx.step("raise_on_error", lambda: job.execute_in_process(instance=instance))
    ctx.step("failed_runs", lambda: sorted(r.status.value for r in instance.get_runs()))
    return ctx.results


def _assets_defs():
    import dagster as dg

    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    regions = dg.DynamicPartitionsDefinition(name="regions")

    @dg.asset(partitions_def=daily)
    def upstream(context) -> int:
        return len(context.partition_key)

    @dg.asset(partitions_def=daily)
    def downstream(upstream: int) -> int:
        return upstream + 1

    @dg.asset(partitions_def=regions)
    def by_region(context) -> str:
        return context.partition_key.upper()

    @dg.asset
    def unpartitioned() -> int:
        return 7

    return upstream, downstream, by_region, unpartitioned


@scenario("execute_partitioned_assets", "execution")
def execute_partitioned_assets(instance, ctx: Ctx):
    """Materialize time- and dynamically-partitioned assets; read partition status back."""
    import dagster as dg

    upstream, downstream, by_region, unpartitioned = _assets_defs()
    ctx.dynamic_partition_names.add("regions")
    ctx.step("materialize_daily", lambda: dg.materialize([upstream, downstream], instance=instance,
                                                         partition_key="2024-01-02").success)
    ctx.step("add_regions", instance.add_dynamic_partitions, "regions", ["eu", "us"])
    ctx.step("materialize_region", lambda: dg.materialize([by_region], instance=instance, partition_key="eu").success)
    ctx.step("unknown_region", lambda: dg.materialize([by_region], instance=instance, partition_key="mars").success)
    ctx.step("materialize_plain", lambda: dg.materialize([unpartitioned], instance=instance).success)
    ctx.step("daily_partitions", lambda: sorted(instance.get_materialized_partitions(dg.AssetKey("downstream"))))
    ctx.step("region_partitions", lambda: sorted(instance.get_materialized_partitions(dg.AssetKey("by_region"))))
    ctx.step("asset_keys", lambda: sorted(k.to_user_string() for k in instance.all_asset_keys()))
    ctx.step("planned", lambda: instance.get_latest_planned_materialization_info(dg.AssetKey("downstream"), "2024-01-02") is not None)
    return ctx.results


RETRY_SETTINGS = {"run_retries": {"enabled": True, "max_retries": 2}}
NO_STEP_RETRY_SETTINGS = {"run_retries": {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}}


def _retry_decision(instance, ctx: Ctx):
    job = _ops_job("retry_job", fail=True)
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    ctx.step("success", lambda: result.success)
    ctx.step("tags", lambda: {k: v for k, v in instance.get_run_by_id(result.run_id).tags.items()
                              if k.startswith("dagster/") and "retry" in k or k.endswith("failure_reason")})
    tagged = job.execute_in_process(instance=instance, raise_on_error=False, tags={"dagster/max_retries": "0"})
    ctx.step("tags_max_retries_0", lambda: {k: v for k, v in instance.get_run_by_id(tagged.run_id).tags.items()
                                            if "retry" in k})
    return ctx.results


@scenario("execute_run_retries", "execution", settings=RETRY_SETTINGS)
def execute_run_retries(instance, ctx: Ctx):
    """A failing run with run retries enabled: the will-retry decision reads run_retries_*."""
    return _retry_decision(instance, ctx)


@scenario("execute_run_retries_no_step_retry", "execution", settings=NO_STEP_RETRY_SETTINGS)
def execute_run_retries_no_step_retry(instance, ctx: Ctx):
    """As execute_run_retries, with retry_on_asset_or_op_failure off: step failures do not retry."""
    return _retry_decision(instance, ctx)


# ---------------------------------------------------------------------------------------------
# members a subclass reaches that no other scenario runs


@scenario("runs_create_run_direct", "runs")
def runs_create_run_direct(instance, ctx: Ctx):
    """create_run called directly, the way a subclass that builds runs itself (or overrides it and
    calls super()) does, with and without snapshots."""
    job = _ops_job("direct_job")
    template = instance.create_run_for_job(job, tags={"from": "template"})
    bare = dict(job_name="direct_job", run_id=None, run_config={}, status=None, tags={"direct": "1"},
                root_run_id=None, parent_run_id=None, step_keys_to_execute=None, execution_plan_snapshot=None,
                job_snapshot=None, parent_job_snapshot=None, asset_selection=None, asset_check_selection=None,
                resolved_op_selection=None, op_selection=None, remote_job_origin=None, job_code_origin=None,
                asset_graph=None)
    ctx.step("bare", lambda: (lambda r: (r.job_name, r.status, dict(r.tags)))(instance.create_run(**bare)))
    snap = instance.get_job_snapshot(template.job_snapshot_id)
    plan = instance.get_execution_plan_snapshot(template.execution_plan_snapshot_id)
    ctx.step("with_snapshots", lambda: (lambda r: (r.job_snapshot_id == template.job_snapshot_id, r.status))(
        instance.create_run(**{**bare, "job_snapshot": snap, "execution_plan_snapshot": plan,
                                "parent_run_id": template.run_id, "root_run_id": template.run_id})))
    ctx.step("count", instance.get_runs_count)
    return ctx.results


@scenario("configuration_construction", "configuration", storages=("sqlite",))
def configuration_construction(instance, ctx: Ctx):
    """The constructors a subclass inherits: from_ref on its own ref, get() from DAGSTER_HOME (the
    cell's own temp dir), and the hooks a subclass overrides to change base behaviour."""
    import os

    ref = instance.get_ref()
    other = ctx.step("from_ref", lambda: type(instance).from_ref(ref))
    if other is not None:
        ctx.results["from_ref"] = {"type": type(other).__name__, "same_root": other.root_directory == instance.root_directory,
                                   "runs": other.get_runs_count()}
        other.dispose()
    got = ctx.step("get", lambda: type(instance).get())
    if got is not None:
        ctx.results["get"] = {"type": type(got).__name__, "persistent": got.is_persistent}
        got.dispose()
    ctx.step("should_start_background_run_thread", lambda: instance.should_start_background_run_thread)
    before = dict(os.environ)
    ctx.step("inject_env_vars", instance.inject_env_vars, "compat_location")
    ctx.step("env_unchanged", lambda: sorted(k for k in os.environ if os.environ.get(k) != before.get(k)))
    return ctx.results


FEATURE_FLAGS = (
    "backfill_log_storage_enabled", "da_request_backfills", "dagster_observe_supported",
    "can_read_asset_status_cache", "can_read_asset_failure_events", "dagster_asset_health_queries_supported",
    "internal_asset_freshness_enabled", "get_tick_termination_check_interval",
)


def _value_of(instance, name: str, *args: Any, **kwargs: Any) -> Any:
    v = getattr(instance, name)
    return v(*args, **kwargs) if callable(v) else v


@scenario("runs_records_and_stats", "runs")
def runs_records_and_stats(instance, ctx: Ctx):
    """Lower-level run and asset reads a subclass or a daemon uses: add_run and add_snapshot, step
    stats, partition data, per-partition storage ids, failed and planned materializations, event
    tags, data versions, cached status wiping; and the feature flags subclasses override."""
    import dagster as dg
    from dagster._core.events import DagsterEventType
    from dagster._core.storage.dagster_run import RunsFilter

    upstream, downstream, _, unpartitioned = _assets_defs()
    result = dg.materialize([upstream, downstream], instance=instance, partition_key="2024-01-02",
                            tags={"src": "stats"})
    run = instance.get_run_by_id(result.run_id)
    key = dg.AssetKey("downstream")
    ctx.step("step_stats", lambda: sorted((s.step_key, s.status.value) for s in instance.get_run_step_stats(run.run_id)))
    ctx.step("partition_data", lambda: [(d.partition, d.status.value) for d in instance.get_run_partition_data(
        RunsFilter(run_ids=[run.run_id]))])
    ctx.step("storage_id_by_partition", lambda: sorted(instance.get_latest_storage_id_by_partition(
        key, DagsterEventType.ASSET_MATERIALIZATION)))
    ctx.step("failed", lambda: len(instance.fetch_failed_materializations(key, limit=5).records))
    ctx.step("planned", lambda: len(instance.fetch_planned_materializations(key, limit=5).records))
    ctx.step("event_tags", lambda: [sorted(t) for t in instance.get_event_tags_for_asset(key)])
    ctx.step("data_version", lambda: instance.get_latest_data_version_record(key) is not None)
    ctx.step("wipe_cached_status", instance.wipe_asset_cached_status, [key])
    copy = run.with_status(dg.DagsterRunStatus.SUCCESS)._replace(run_id="eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee")
    ctx.step("add_run", lambda: instance.add_run(copy).status)
    ctx.step("add_run_again", lambda: instance.add_run(copy).status)
    snap = instance.get_job_snapshot(run.job_snapshot_id)
    ctx.step("add_snapshot", instance.add_snapshot, snap)
    ctx.step("dynamic_partitions_definition_id", lambda: bool(instance.get_dynamic_partitions_definition_id("regions")))
    for name in FEATURE_FLAGS:
        ctx.step(f"flag:{name}", _value_of, instance, name)
    ctx.step("flag:can_read_failure_events_for_asset", lambda: instance.can_read_failure_events_for_asset(
        instance.get_asset_records([key])[0]))
    return ctx.results


def _fresh_dir(parent: str, name: str) -> str:
    import os

    path = os.path.join(parent, name)
    os.makedirs(path, exist_ok=True)
    return path


@scenario("storage_maintenance", "storage", storages=("sqlite",))
def storage_maintenance(instance, ctx: Ctx):
    """Maintenance entry points a deployment runs on the instance: upgrade, reindex, the
    webserver pool tuning, tick purging and batch reads, daemon statuses, descriptions, and the
    static constructors (each building an instance of its own in the cell's temp dir)."""
    import os

    from dagster._core.scheduler.instigation import InstigatorType, TickData, TickStatus

    lines: list[str] = []
    ctx.step("upgrade", instance.upgrade, lines.append)
    ctx.step("upgrade_printed", lambda: bool(lines))
    ctx.step("reindex", instance.reindex)
    printed: list[str] = []
    ctx.step("reindex_printing", instance.reindex, lambda text: printed.append(str(text)))
    ctx.step("reindex_printed_something", lambda: bool(printed))
    ctx.step("optimize_for_webserver", instance.optimize_for_webserver, 10, 10, 10)
    origin = _origin("purged_schedule")
    for i in range(3):
        instance.create_tick(TickData(instigator_origin_id=origin.get_id(), instigator_name="purged_schedule",
                                      instigator_type=InstigatorType.SCHEDULE, status=TickStatus.SKIPPED,
                                      timestamp=FIXED_TS + i, selector_id="sel"))
    ctx.step("batch_ticks", lambda: {k: len(v) for k, v in instance.get_batch_ticks(["sel"]).items()})
    ctx.step("purge_ticks", instance.purge_ticks, origin.get_id(), "sel", FIXED_TS + 1.5)
    ctx.step("ticks_after_purge", lambda: len(instance.get_ticks(origin.get_id(), "sel")))
    ctx.step("tick_retention", lambda: {k.value: v for k, v in instance.get_tick_retention_settings(
        InstigatorType.SCHEDULE).items()})
    ctx.step("logs_path_for_schedule", instance.logs_path_for_schedule, origin.get_id())
    ctx.step("daemon_statuses", lambda: {k: (s.required, s.healthy) for k, s in instance.get_daemon_statuses(
        ["SENSOR"]).items()})
    ctx.step("info_str", lambda: instance.info_str().splitlines()[0])
    ctx.step("schema_str", lambda: type(instance.schema_str()).__name__)
    cls = type(instance)
    for name, make in (("ephemeral", lambda: cls.ephemeral(tempdir=os.path.join(ctx.tmpdir, "eph"))),
                       ("local_temp", lambda: cls.local_temp(tempdir=_fresh_dir(ctx.tmpdir, "lt"))),
                       ("from_config", lambda: cls.from_config(instance.root_directory))):
        other = ctx.step(name, make)
        if other is not None:
            ctx.results[name] = {"type": type(other).__name__, "persistent": other.is_persistent}
            other.dispose()
    return ctx.results


# ---------------------------------------------------------------------------------------------
# invalid arguments: what a method refuses, and how, is behaviour too

MISSING_RUN = "ffffffff-ffff-ffff-ffff-ffffffffffff"


def _refusals(ctx: Ctx, calls) -> dict[str, Any]:
    for label, fn in calls:
        ctx.step(label, fn)
    return ctx.results


@scenario("errors_runs", "runs")
def errors_runs(instance, ctx: Ctx):
    """Run methods given None, wrong types, unknown keys and runs that do not exist."""
    from dagster._core.storage.dagster_run import RunsFilter

    job = _ops_job()
    run = instance.create_run_for_job(job)
    return _refusals(ctx, [
        ("get_run_by_id:None", lambda: instance.get_run_by_id(None)),
        ("get_run_by_id:int", lambda: instance.get_run_by_id(123)),
        ("get_run_record_by_id:None", lambda: instance.get_run_record_by_id(None)),
        ("has_run:None", lambda: instance.has_run(None)),
        ("delete_run:missing", lambda: instance.delete_run(MISSING_RUN)),
        ("add_run_tags:None_tags", lambda: instance.add_run_tags(run.run_id, None)),
        ("add_run_tags:int_value", lambda: instance.add_run_tags(run.run_id, {"k": 1})),
        ("add_run_tags:missing_run", lambda: instance.add_run_tags(MISSING_RUN, {"k": "v"})),
        ("get_runs:str_filters", lambda: instance.get_runs(filters="team=a")),
        ("get_runs:str_limit", lambda: instance.get_runs(limit="ten")),
        ("get_runs:unknown_cursor", lambda: instance.get_runs(cursor=MISSING_RUN)),
        ("get_runs_count:int_filters", lambda: instance.get_runs_count(filters=1)),
        ("get_run_ids:bad_filter", lambda: instance.get_run_ids(filters=RunsFilter(run_ids=None, tags={"x": 1}))),
        ("get_run_tags:str_keys", lambda: sorted(instance.get_run_tags(tag_keys="team"))),
        ("get_run_group:missing", lambda: instance.get_run_group(MISSING_RUN)),
        ("create_run_for_job:None", lambda: instance.create_run_for_job(None)),
        ("create_run_for_job:str_config", lambda: instance.create_run_for_job(job, run_config="not a dict")),
        ("create_run_for_job:int_tags", lambda: instance.create_run_for_job(job, tags={"k": 1}).tags),
        ("create_run_for_job:unknown_op", lambda: instance.create_run_for_job(job, op_selection=["no_such_op"])),
        ("report_run_canceled:None", lambda: instance.report_run_canceled(None)),
        ("report_run_failed:str", lambda: instance.report_run_failed(run.run_id)),
        ("report_engine_event:None_message", lambda: instance.report_engine_event(None, run)),
        ("handle_new_event:None", lambda: instance.handle_new_event(None)),
        ("all_logs:None", lambda: instance.all_logs(None)),
        ("all_logs:missing", lambda: len(instance.all_logs(MISSING_RUN))),
        ("count", instance.get_runs_count),
    ])


@scenario("errors_assets_partitions", "partitions")
def errors_assets_partitions(instance, ctx: Ctx):
    """Asset and partition methods given None, strings for keys, wrong container types."""
    import dagster as dg

    ctx.dynamic_partition_names.add("ok")
    return _refusals(ctx, [
        ("get_latest_materialization_event:None", lambda: instance.get_latest_materialization_event(None)),
        ("get_latest_materialization_event:str", lambda: instance.get_latest_materialization_event("alpha")),
        ("get_materialized_partitions:str", lambda: instance.get_materialized_partitions("alpha")),
        ("wipe_assets:None", lambda: instance.wipe_assets(None)),
        ("wipe_assets:str", lambda: instance.wipe_assets("alpha")),
        ("wipe_asset_partitions:None", lambda: instance.wipe_asset_partitions(dg.AssetKey("alpha"), None)),
        ("fetch_materializations:str", lambda: instance.fetch_materializations("alpha", limit=1)),
        ("fetch_materializations:no_limit", lambda: instance.fetch_materializations(dg.AssetKey("alpha"), limit=None)),
        ("get_asset_records:None_key", lambda: instance.get_asset_records([None])),
        ("report_runless_asset_event:None", lambda: instance.report_runless_asset_event(None)),
        ("report_runless_asset_event:str", lambda: instance.report_runless_asset_event("materialized")),
        ("add_dynamic_partitions:None_name", lambda: instance.add_dynamic_partitions(None, ["a"])),
        ("add_dynamic_partitions:str_keys", lambda: instance.add_dynamic_partitions("ok", "abc")),
        ("add_dynamic_partitions:int_key", lambda: instance.add_dynamic_partitions("ok", [1])),
        ("add_dynamic_partitions:empty", lambda: instance.add_dynamic_partitions("ok", [])),
        ("get_dynamic_partitions:None", lambda: instance.get_dynamic_partitions(None)),
        ("has_dynamic_partition:None", lambda: instance.has_dynamic_partition(None, "a")),
        ("delete_dynamic_partition:None_key", lambda: instance.delete_dynamic_partition("ok", None)),
        ("delete_dynamic_partition:missing", lambda: instance.delete_dynamic_partition("ok", "never-added")),
        ("get_dynamic_partitions:after", lambda: instance.get_dynamic_partitions("ok")),
    ])


@scenario("errors_schedules_backfills", "schedules", storages=("sqlite",))
def errors_schedules_backfills(instance, ctx: Ctx):
    """Instigator, tick, backfill and heartbeat methods given None and unknown ids."""
    return _refusals(ctx, [
        ("get_instigator_state:None", lambda: instance.get_instigator_state(None, None)),
        ("get_instigator_state:missing", lambda: instance.get_instigator_state("no-origin", "no-selector")),
        ("add_instigator_state:None", lambda: instance.add_instigator_state(None)),
        ("update_instigator_state:None", lambda: instance.update_instigator_state(None)),
        ("delete_instigator_state:missing", lambda: instance.delete_instigator_state("no-origin", "no-selector")),
        ("get_ticks:missing", lambda: instance.get_ticks("no-origin", "no-selector")),
        ("get_tick:missing", lambda: instance.get_tick("no-origin", "no-selector", FIXED_TS)),
        ("create_tick:None", lambda: instance.create_tick(None)),
        ("update_tick:None", lambda: instance.update_tick(None)),
        ("add_backfill:None", lambda: instance.add_backfill(None)),
        ("update_backfill:None", lambda: instance.update_backfill(None)),
        ("get_backfill:None", lambda: instance.get_backfill(None)),
        ("get_backfills:str_status", lambda: instance.get_backfills(status="REQUESTED")),
        ("add_daemon_heartbeat:None", lambda: instance.add_daemon_heartbeat(None)),
        ("get_settings:None", lambda: instance.get_settings(None)),
        ("get_settings:int", lambda: instance.get_settings(1)),
        ("get_job_snapshot:None", lambda: instance.get_job_snapshot(None)),
        ("has_job_snapshot:None", lambda: instance.has_job_snapshot(None)),
        ("get_execution_plan_snapshot:missing", lambda: instance.get_execution_plan_snapshot("0" * 40)),
        ("file_manager_directory:None", lambda: instance.file_manager_directory(None)),
    ])


# dagster.yaml documents the base refuses, each for one reason (config.py's validation), keyed by
# the step that writes it: the message names the field, so a field list built as a tuple shows
REFUSED_CONFIGS = {
    "run_queue_and_run_coordinator": {"run_queue": {"max_concurrent_runs": 1},
                                      "run_coordinator": {"module": "dagster", "class": "DefaultRunCoordinator"}},
    "storage_and_run_storage": {"storage": {"sqlite": {"base_dir": "x"}},
                                "run_storage": {"module": "dagster", "class": "SqliteRunStorage", "config": {"base_dir": "x"}}},
    "storage_of_two_kinds": {"storage": {"sqlite": {"base_dir": "x"}, "postgres": {"postgres_url": "postgresql://x"}}},
    "unknown_key": {"no_such_setting": True},
    "pools_and_default_limit": {"concurrency": {"pools": {"default_limit": 1}, "default_op_concurrency_limit": 1}},
    "pools_limit_out_of_range": {"concurrency": {"pools": {"default_limit": -1}}},
    "pools_bad_granularity": {"concurrency": {"pools": {"granularity": "job"}}},
    "default_limit_out_of_range": {"concurrency": {"default_op_concurrency_limit": -1}},
    "runs_and_queue_max": {"concurrency": {"runs": {"max_concurrent_runs": 2}}, "run_queue": {"max_concurrent_runs": 1}},
    "runs_and_queue_tags": {"concurrency": {"runs": {"max_concurrent_runs": 2}},
                            "run_queue": {"tag_concurrency_limits": [{"key": "k", "limit": 1}]}},
    "runs_and_queue_block": {"concurrency": {"runs": {"max_concurrent_runs": 2}},
                             "run_queue": {"block_op_concurrency_limited_runs": {"enabled": True,
                                                                                  "op_concurrency_slot_buffer": 1}}},
    "runs_and_coordinator_max": {"concurrency": {"runs": {"max_concurrent_runs": 2}},
                                 "run_coordinator": {"module": "dagster", "class": "QueuedRunCoordinator",
                                                     "config": {"max_concurrent_runs": 1}}},
}


# dagster.yaml documents the base accepts, though a stricter schema (a field made required) or
# another default would refuse or read them otherwise
ACCEPTED_CONFIGS = {
    "auto_materialize_without_run_tags": {"auto_materialize": {"enabled": False}},
    "nux_disabled": {"nux": {"enabled": False}},
}


def _schema_fields(field: Any, path: str, out: dict[str, Any]) -> dict[str, Any]:
    """Every field of a config schema by its dotted path: whether it is required, its default
    (when it has one) and its type's kind or name; descriptions left out (documentation)."""
    from dagster._config import ConfigTypeKind

    kind = field.config_type.kind
    entry: dict[str, Any] = {"required": field.is_required, "type": field.config_type.given_name or kind.value}
    if field.default_provided:
        entry["default"] = field.default_value
    out[path] = entry
    if kind in (ConfigTypeKind.STRICT_SHAPE, ConfigTypeKind.PERMISSIVE_SHAPE, ConfigTypeKind.SELECTOR):
        for name, child in sorted(field.config_type.fields.items()):
            _schema_fields(child, f"{path}.{name}" if path else name, out)
    return out


def _instance_parts(tmpdir: str, **changed: Any) -> dict[str, Any]:
    """Fresh in-memory components for constructing DagsterInstance directly, with some changed."""
    from dagster._core.instance import InstanceType
    from dagster._core.storage.event_log import InMemoryEventLogStorage
    from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
    from dagster._core.storage.root import LocalArtifactStorage
    from dagster._core.storage.runs import InMemoryRunStorage

    coordinator = _import("DefaultRunCoordinator", "dagster._core.run_coordinator")
    launcher = _import("SyncInMemoryRunLauncher", "dagster._core.launcher.sync_in_memory_run_launcher",
                       "dagster._core.launcher")
    parts = dict(instance_type=InstanceType.EPHEMERAL, local_artifact_storage=LocalArtifactStorage(tmpdir),
                 run_storage=InMemoryRunStorage(), event_storage=InMemoryEventLogStorage(),
                 run_coordinator=coordinator(), compute_log_manager=NoOpComputeLogManager(),
                 run_launcher=launcher())
    return {**parts, **changed}


@scenario("configuration_refusals", "configuration", storages=("sqlite",))
def configuration_refusals(instance, ctx: Ctx):
    """What the base refuses to be built from: a missing component without a ref, a component
    of the wrong type, and dagster.yaml documents that fail its validation (each for one reason).
    A subclass or a deployment that relied on the refusal (a config that must not start) breaks
    when the base accepts it, or refuses it with another class or message."""
    import os

    from dagster._core.instance import DagsterInstance

    def build(**changed):
        made = DagsterInstance(**_instance_parts(_fresh_dir(ctx.tmpdir, "parts"), **changed))
        made.dispose()
        return type(made).__name__

    def build_from_yaml(home):
        made = type(instance).from_config(home)
        made.dispose()
        return type(made).__name__

    ctx.step("complete", build)
    for part in ("compute_log_manager", "run_coordinator", "run_launcher"):
        ctx.step(f"without:{part}", build, **{part: None})
    ctx.step("wrong_type:run_storage", build, run_storage="not a run storage")
    ctx.step("wrong_type:settings", build, settings="not a mapping")
    import yaml

    for name, document in REFUSED_CONFIGS.items():
        home = _fresh_dir(ctx.tmpdir, f"yaml-{name}")
        with open(os.path.join(home, "dagster.yaml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump(document, fh, sort_keys=True)
        ctx.step(f"yaml:{name}", build_from_yaml, home)
    for name, document in ACCEPTED_CONFIGS.items():
        home = _fresh_dir(ctx.tmpdir, f"yaml-ok-{name}")
        with open(os.path.join(home, "dagster.yaml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump(document, fh, sort_keys=True)
        ctx.step(f"yaml_ok:{name}", build_from_yaml, home)
    # another filename than dagster.yaml: from_config must read the one it is given
    with open(os.path.join(_fresh_dir(ctx.tmpdir, "yaml-named"), "other.yaml"), "w", encoding="utf-8") as fh:
        yaml.safe_dump(REFUSED_CONFIGS["unknown_key"], fh, sort_keys=True)
    ctx.step("yaml_named_file", lambda: type(instance).from_config(os.path.join(ctx.tmpdir, "yaml-named"),
                                                                   config_filename="other.yaml"))
    # get() refuses a DAGSTER_HOME that is unset, relative, or not a directory (paths that are
    # never created; the cell's own DAGSTER_HOME is put back after each)
    def get_with_home(value):
        saved = os.environ.get("DAGSTER_HOME")
        try:
            if value is None:
                os.environ.pop("DAGSTER_HOME", None)
            else:
                os.environ["DAGSTER_HOME"] = value
            made = type(instance).get()
            made.dispose()
            return type(made).__name__
        finally:
            if saved is None:
                os.environ.pop("DAGSTER_HOME", None)
            else:
                os.environ["DAGSTER_HOME"] = saved

    for name, value in (("unset", None), ("relative", "relative/compat-home"),
                        ("missing", "/nonexistent/compat-home")):
        ctx.step(f"get_home:{name}", get_with_home, value)
    # the schema every document is validated against, field by field
    ctx.step("instance_config_schema", lambda: _schema_fields(
        _import("Field", "dagster")(_import("dagster_instance_config_schema", "dagster._core.instance.config")()),
        "", {}))
    return ctx.results


def names(selected: list[str] | None = None) -> list[str]:
    """Scenario names, checked against the registry; all of them when none are selected."""
    if not selected:
        return sorted(SCENARIOS)
    unknown = [n for n in selected if n not in SCENARIOS]
    if unknown:
        raise KeyError(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(sorted(SCENARIOS))}")
    return list(selected)

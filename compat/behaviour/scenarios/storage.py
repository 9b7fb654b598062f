"""Storage scenarios: the components the instance wires up, wiping, the instance as a context
manager and its disposal, and the maintenance members (migrations, reindexing, optimizing).
"""

from __future__ import annotations

from compat.behaviour.scenarios.common import _fresh_dir, _import, _ops_job, _origin
from compat.behaviour.scenarios.registry import FIXED_TS, Ctx, scenario


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


@scenario("storage_defaults_and_temp", "storage")
def storage_defaults_and_temp(instance, ctx: Ctx):
    """What the storage entry points do with their defaults: upgrade without a print function,
    the constructors without a temp dir (the instance owns one and removes it on disposal),
    and the schedule members on an instance that may have no schedule storage or scheduler
    (wiping, a schedule's log path, batch ticks, purging, the debug info listing a sensor)."""
    import os

    from dagster._core.scheduler.instigation import (
        InstigatorState, InstigatorStatus, InstigatorType, SensorInstigatorData,
    )

    ctx.step("upgrade:no_print_fn", instance.upgrade)
    cls = type(instance)
    for name, make in (("ephemeral:no_tempdir", lambda: cls.ephemeral()),
                       ("local_temp:no_tempdir", lambda: cls.local_temp())):
        def made(m=make):
            other = m()
            root = other.root_directory
            other.dispose()
            return [type(other).__name__, other.is_persistent, os.path.isdir(root)]

        ctx.step(name, made)
    origin = _origin("temp_sensor")
    state = InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus.RUNNING,
                            SensorInstigatorData(cursor=None, min_interval=30))
    ctx.step("add_sensor_state", lambda: instance.add_instigator_state(state).instigator_name)
    ctx.step("scheduler_debug_info:sensors", lambda: len(instance.scheduler_debug_info().schedule_storage))
    ctx.step("logs_path_for_schedule", lambda: os.path.relpath(
        instance.logs_path_for_schedule(origin.get_id()), instance.root_directory).split(os.sep)[-1] == origin.get_id())
    ctx.step("get_batch_ticks", lambda: dict(instance.get_batch_ticks([state.selector_id])))
    ctx.step("purge_ticks", instance.purge_ticks, origin.get_id(), state.selector_id, FIXED_TS)
    ctx.step("wipe_all_schedules", instance.wipe_all_schedules)
    ctx.step("optimize_for_webserver", instance.optimize_for_webserver, 30000, 3600, 10)

    def reindexed():
        lines: list[str] = []
        instance.reindex(lines.append)
        return lines

    ctx.step("reindex", reindexed)

    def compute_logs_from_ref():  # built from a ref, the instance loads its compute log manager on first use
        other = cls.from_ref(instance.get_ref())
        try:
            return type(other.compute_log_manager).__name__
        finally:
            other.dispose()

    ctx.step("compute_log_manager:from_ref", compute_logs_from_ref)
    # a storage no instance registered has no instance to hand back
    ctx.step("unregistered_storage:_instance", lambda: _import(
        "InMemoryRunStorage", "dagster._core.storage.runs")()._instance)
    return ctx.results

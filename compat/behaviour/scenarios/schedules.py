"""Schedule, sensor, backfill and daemon scenarios: instigator state and ticks, backfills, and
daemon heartbeats.
"""

from __future__ import annotations

from compat.behaviour.scenarios.common import _asset, _origin
from compat.behaviour.scenarios.registry import FIXED_TS, Ctx, scenario


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

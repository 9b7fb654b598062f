"""Scenarios on a code location loaded in process (no code server): the members that take a
remote job, schedule or sensor. Re-executing failed runs where runs_reexecution_from_location
(:mod:`.reexecution`) does not go: backfill tags, asset jobs, refusals; starting, stopping and resetting
schedules and sensors, from no stored state, a stored state of the other kind, a stopped one,
and a sensor that is running by default. Only names, kinds and statuses are recorded: run ids
and the start timestamps the base stores change with every recording.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

from compat.behaviour.scenarios.common import _import, _job_def
from compat.behaviour.scenarios.registry import FIXED_TS, Ctx, scenario

_ORIGINS = ("dagster._core.remote_origin", "dagster._core.remote_representation.origin")


def _origin():
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    return _import("InProcessCodeLocationOrigin", *_ORIGINS)(
        LoadableTargetOrigin(module_name="compat.behaviour.defs", attribute="location_defs"),
        location_name="compat_location")


@contextlib.contextmanager
def _location(instance):
    """The code location of ``compat.behaviour.defs.location_defs`` loaded in process, and its
    repository."""
    with _origin().create_location(instance) as location:
        yield location, location.get_repository(location.get_repository_names()[0])


@contextlib.contextmanager
def _workspace(instance):
    """A workspace of that one location and a request context of it (what re-execution takes;
    it refuses an ephemeral instance; its registry keeps a clean-up thread while open, joined
    on exit)."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget([_origin()])) as process:
        request = process.create_request_context()
        location = request.get_code_location("compat_location")
        yield request, location, location.get_repository(location.get_repository_names()[0])


def _state(state) -> Any:
    """What a caller reads of an instigator state: name, kind, status."""
    if state is None:
        return None
    return [state.instigator_name, state.instigator_type.value, state.status.value]


@scenario("schedules_from_location", "schedules")
def schedules_from_location(instance, ctx: Ctx):
    """Start, stop and reset a schedule and sensors of an in-process code location, whatever is
    stored for them: nothing, a state of the other kind (which the base deletes), a stopped state,
    and a sensor that runs by default (starting it changes nothing)."""
    from dagster._core.scheduler.instigation import (
        InstigatorState, InstigatorStatus, InstigatorType, ScheduleInstigatorData,
    )

    with _location(instance) as (_, repo):
        schedule, sensor = repo.get_schedule("location_schedule"), repo.get_sensor("location_sensor")
        running = repo.get_sensor("location_running_sensor")
        ids = (sensor.get_remote_origin_id(), sensor.selector_id)
        ctx.step("start_schedule", lambda: _state(instance.start_schedule(schedule)))
        ctx.step("stop_schedule", lambda: _state(instance.stop_schedule(
            schedule.get_remote_origin_id(), schedule.selector_id, schedule)))
        ctx.step("reset_schedule", lambda: _state(instance.reset_schedule(schedule)))
        ctx.step("start_sensor", lambda: _state(instance.start_sensor(sensor)))
        ctx.step("start_sensor:running", lambda: _state(instance.start_sensor(sensor)))
        ctx.step("stop_sensor", lambda: _state(instance.stop_sensor(*ids, sensor)))
        ctx.step("start_sensor:stopped", lambda: _state(instance.start_sensor(sensor)))
        ctx.step("reset_sensor", lambda: _state(instance.reset_sensor(sensor)))
        ctx.step("reset_sensor:again", lambda: _state(instance.reset_sensor(sensor)))
        ctx.step("stop_sensor:without_remote", lambda: _state(instance.stop_sensor(*ids, None)))
        ctx.step("start_sensor:default_running", lambda: _state(instance.start_sensor(running)))
        ctx.step("stop_sensor:default_running", lambda: _state(instance.stop_sensor(
            running.get_remote_origin_id(), running.selector_id, running)))
        ctx.step("reset_sensor:default_running", lambda: _state(instance.reset_sensor(running)))

        def as_schedule():  # a schedule's state stored under the sensor's ids
            return InstigatorState(sensor.get_remote_origin(), InstigatorType.SCHEDULE, InstigatorStatus.RUNNING,
                                   ScheduleInstigatorData("0 0 * * *", start_timestamp=FIXED_TS))

        for member, call in (("start_sensor", lambda: instance.start_sensor(sensor)),
                             ("stop_sensor", lambda: instance.stop_sensor(*ids, sensor)),
                             ("reset_sensor", lambda: instance.reset_sensor(sensor))):
            ctx.step(f"delete_before:{member}", instance.delete_instigator_state, *ids)
            ctx.step(f"{member}:schedule_stored", lambda c=call: (
                instance.add_instigator_state(as_schedule()) and None, _state(c()))[1])
        ctx.step("delete_before:stop_unknown", instance.delete_instigator_state, *ids)
        ctx.step("stop_sensor:nothing_stored", lambda: _state(instance.stop_sensor(*ids, sensor)))
        ctx.step("sensors", lambda: sorted(_state(s) for s in instance.all_instigator_state(
            instigator_type=InstigatorType.SENSOR)))
    return ctx.results


@scenario("runs_reexecution_strategies", "runs", storages=("sqlite",))
def runs_reexecution_strategies(instance, ctx: Ctx):
    """Re-execution through an in-process code location where runs_reexecution_from_location does
    not go: a parent tagged with a backfill (its tags kept while the backfill is requested, dropped
    once it is done), a parent without one, the failed assets of an asset job (one raised, one passed
    materialized but failed its blocking check), and the runs with
    nothing to retry (a run that did not fail; a run failed after all its steps succeeded) and a
    strategy that is not one, each refused."""
    from compat.behaviour import defs

    strategy = _import("ReexecutionStrategy", "dagster._core.execution.plan.resume_retry")
    bulk = _import("BulkActionStatus", "dagster._core.execution.backfill")
    backfill_cls = _import("PartitionBackfill", "dagster._core.execution.backfill")

    instance.add_backfill(backfill_cls(backfill_id="reexecbf", status=bulk.REQUESTED, from_failure=False, tags={},
                                       backfill_timestamp=FIXED_TS, asset_selection=[], partition_names=["p"]))
    failed = defs.reexec_job.execute_in_process(instance=instance, raise_on_error=False,
                                                tags={"team": "compat", "dagster/backfill": "reexecbf"}).run_id
    passed = defs.reexec_job.execute_in_process(
        instance=instance, raise_on_error=False, op_selection=["reexec_source"]).run_id
    assets_failed = _job_def(defs.location_defs, "reexec_assets_job").execute_in_process(
        instance=instance, raise_on_error=False).run_id
    known = {failed: "failed", passed: "passed", assets_failed: "assets_failed"}

    def summary(run):
        return {"job": run.job_name, "status": run.status.value, "steps": sorted(run.step_keys_to_execute or []),
                "run_config": run.run_config,
                "tags": {k: known.get(v, v) for k, v in sorted(run.tags.items())},
                "asset_selection": sorted(k.to_user_string() for k in run.asset_selection or ()),
                "asset_check_selection": sorted(k.to_user_string() for k in run.asset_check_selection or ())}

    with _workspace(instance) as (request, location, repo):
        job = repo.get_full_job("reexec_job")
        assets_job = repo.get_full_job("reexec_assets_job")

        # releases before the request context was a parameter take none
        context = ({"request_context": request} if "request_context" in
                   inspect.signature(instance.create_reexecuted_run).parameters else {})

        def reexecute(run_id, remote, how, **kwargs):
            return summary(instance.create_reexecuted_run(
                parent_run=instance.get_run_by_id(run_id), code_location=location, remote_job=remote,
                strategy=getattr(strategy, how), **context, **kwargs))

        ctx.step("from_failure:backfill_requested", reexecute, failed, job, "FROM_FAILURE",
                 use_parent_run_tags=True, extra_tags={"extra": "yes"})
        ctx.step("from_failure:nothing_failed", reexecute, passed, job, "FROM_FAILURE")
        ctx.step("from_asset_failure", reexecute, assets_failed, assets_job, "FROM_ASSET_FAILURE")
        ctx.step("strategy_not_a_strategy", lambda: instance.create_reexecuted_run(
            parent_run=instance.get_run_by_id(failed), code_location=location, remote_job=job,
            strategy="FROM_NOWHERE", **context))
        ctx.step("all_steps:parent_tags_no_backfill", reexecute, assets_failed, assets_job, "ALL_STEPS",
                 use_parent_run_tags=True)
        instance.report_run_failed(instance.get_run_by_id(passed), message="failed after its steps")
        ctx.step("from_failure:no_step_failed", reexecute, passed, job, "FROM_FAILURE")
        instance.update_backfill(instance.get_backfill("reexecbf").with_status(bulk.COMPLETED_SUCCESS))
        ctx.step("parent_tags:backfill_done", reexecute, failed, job, "ALL_STEPS", use_parent_run_tags=True)
    return ctx.results

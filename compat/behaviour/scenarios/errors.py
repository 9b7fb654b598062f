"""Refusal scenarios: what a method refuses (None, wrong types, unknown keys, ids that do not
exist), and how, is behaviour too.
"""

from __future__ import annotations

from compat.behaviour.scenarios.common import MISSING_RUN, _import, _ops_job, _origin, _refusals

_ORIGINS = ("dagster._core.remote_origin", "dagster._core.remote_representation.origin")
from compat.behaviour.scenarios.registry import FIXED_TS, Ctx, scenario


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
        # the protected form a subclass override hands its event to with super(): no public check first
        ("_report_runless_asset_event:key", lambda: instance._report_runless_asset_event(dg.AssetKey("alpha"))),
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


@scenario("errors_launch_and_resume", "runs")
def errors_launch_and_resume(instance, ctx: Ctx):
    """Submitting, launching and resuming past the first checks: a run that does not exist, a run
    submitted a second time (the coordinator's refusal is reported as an engine event and a run
    failure, then raised), and resuming a started run with a launcher that cannot resume (the
    same). The events each leaves on the run are recorded."""
    import dagster as dg

    from compat.behaviour import defs

    recon = dg.reconstructable(defs.launched_job)
    job = defs.launched_job
    origin = _import("RemoteJobOrigin", *_ORIGINS)(_origin("launched_job").repository_origin, job.name)

    def events(run_id):
        return [e.dagster_event.event_type_value for e in instance.all_logs(run_id) if e.dagster_event]

    ctx.step("submit_run:missing", instance.submit_run, MISSING_RUN, None)
    submitted = instance.create_run_for_job(job, job_code_origin=recon.get_python_origin(), remote_job_origin=origin)
    ctx.step("submit_run:first", lambda: instance.submit_run(submitted.run_id, None).status)
    ctx.step("submit_run:again", lambda: instance.submit_run(submitted.run_id, None).status)
    ctx.step("submit_run:events", events, submitted.run_id)
    started = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED,
                                          job_code_origin=recon.get_python_origin())
    ctx.step("resume_run:started", lambda: instance.resume_run(started.run_id, None, 1).status)
    ctx.step("resume_run:status_after", lambda: instance.get_run_by_id(started.run_id).status)
    ctx.step("resume_run:events", events, started.run_id)
    return ctx.results


@scenario("errors_submit_through_default_coordinator", "runs")
def errors_submit_through_default_coordinator(instance, ctx: Ctx):
    """Submitting with the default coordinator (SyncInMemoryRunCoordinator), which launches at
    once, and no workspace: on sqlite the default launcher cannot reach the code location, and the
    base reports the refusal as an engine event and a run failure before raising it (the path a
    custom coordinator's refusal takes too); in memory the run executes in process. Launching
    directly fails the same way, with one engine event and failure fewer."""
    import dagster as dg

    from compat.behaviour import defs

    recon = dg.reconstructable(defs.launched_job)
    origin = _import("RemoteJobOrigin", *_ORIGINS)(_origin("launched_job").repository_origin, defs.launched_job.name)

    def events(run_id):
        return [e.dagster_event.event_type_value for e in instance.all_logs(run_id) if e.dagster_event]

    # the coordinator a subclass given its own holds (both releases keep it in `_run_coordinator`)
    coordinator = _import("DefaultRunCoordinator", "dagster._core.run_coordinator")()
    coordinator.register_instance(instance)
    instance._run_coordinator = coordinator
    ctx.step("coordinator", lambda: type(instance.run_coordinator).__name__)
    submitted = instance.create_run_for_job(defs.launched_job, job_code_origin=recon.get_python_origin(),
                                            remote_job_origin=origin)
    ctx.step("submit_run", lambda: instance.submit_run(submitted.run_id, None).status)
    ctx.step("submit_run:status_after", lambda: instance.get_run_by_id(submitted.run_id).status)
    ctx.step("submit_run:events", events, submitted.run_id)
    launched = instance.create_run_for_job(defs.launched_job, job_code_origin=recon.get_python_origin(),
                                           remote_job_origin=origin)
    ctx.step("launch_run", lambda: instance.launch_run(launched.run_id, None).status)
    ctx.step("launch_run:status_after", lambda: instance.get_run_by_id(launched.run_id).status)
    ctx.step("launch_run:events", events, launched.run_id)
    return ctx.results

"""Run scenarios: creating, querying, tagging and deleting runs, status events, run groups,
submitting and launching, create_run called directly, run records and statistics, and the
rarely called run members.
"""

from __future__ import annotations

from compat.behaviour.scenarios.common import MISSING_RUN, _assets_defs, _import, _job_def, _ops_job, _origin, _value_of
from compat.behaviour.scenarios.registry import Ctx, scenario


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
    ctx.step("get_run_tag_keys", instance.get_run_tag_keys)  # storages answer them sorted
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



FEATURE_FLAGS = (
    "backfill_log_storage_enabled", "da_request_backfills", "dagster_observe_supported",
    "can_read_asset_status_cache", "can_read_asset_failure_events", "dagster_asset_health_queries_supported",
    "internal_asset_freshness_enabled", "get_tick_termination_check_interval",
)



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
    ctx.step("step_stats", lambda: [(s.step_key, s.status.value) for s in instance.get_run_step_stats(run.run_id)])
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
    # a run of another partition: partition data lists one entry per partition, in the storage's order
    other = run._replace(run_id="ffffffff-ffff-ffff-ffff-ffffffffffff",
                         tags={**run.tags, "dagster/partition": "2024-01-03"})
    ctx.step("add_run:other_partition", lambda: instance.add_run(other).status)
    ctx.step("partition_data:two_partitions", lambda: [(d.partition, d.status.value) for d in instance.get_run_partition_data(
        RunsFilter(run_ids=[run.run_id, copy.run_id, other.run_id]))])
    snap = instance.get_job_snapshot(run.job_snapshot_id)
    ctx.step("add_snapshot", instance.add_snapshot, snap)
    ctx.step("dynamic_partitions_definition_id", lambda: bool(instance.get_dynamic_partitions_definition_id("regions")))
    for name in FEATURE_FLAGS:
        ctx.step(f"flag:{name}", _value_of, instance, name)
    ctx.step("flag:can_read_failure_events_for_asset", lambda: instance.can_read_failure_events_for_asset(
        instance.get_asset_records([key])[0]))
    return ctx.results


@scenario("runs_construction_paths", "runs")
def runs_construction_paths(instance, ctx: Ctx):
    """How the base builds a run from what it is given: airflow-ingest tags (the execution date
    added when missing: only whether it is there is recorded), runs of partitioned asset jobs with
    no partition tag, a partition tag, a partition range, or both (refused), on time-window, static
    and dynamic partitions; a run id that is not a UUID; an execution plan without a job snapshot."""
    import dagster as dg

    job = _ops_job("construct_job")
    for label, tags in (("no_date", {"is_airflow_ingest_pipeline": "true"}),
                        ("with_date", {"is_airflow_ingest_pipeline": "true", "airflow_execution_date": "2024-01-01"})):
        ctx.step(f"airflow_ingest:{label}", lambda t=tags: (lambda r: (
            sorted(r.tags), r.tags.get("airflow_execution_date") == "2024-01-01"))(
                instance.create_run_for_job(job, tags=t)))
    ctx.step("run_id_not_a_uuid", lambda: instance.create_run_for_job(job, run_id="not-a-uuid").run_id)
    template = instance.create_run_for_job(job)
    plan = instance.get_execution_plan_snapshot(template.execution_plan_snapshot_id)
    ctx.step("plan_without_job_snapshot", lambda: instance.create_run(
        job_name="construct_job", run_id=None, run_config={}, status=None, tags={}, root_run_id=None,
        parent_run_id=None, step_keys_to_execute=None, execution_plan_snapshot=plan, job_snapshot=None,
        parent_job_snapshot=None, asset_selection=None, asset_check_selection=None, resolved_op_selection=None,
        op_selection=None, remote_job_origin=None, job_code_origin=None, asset_graph=None).status)

    ctx.dynamic_partition_names.add("construct_regions")
    instance.add_dynamic_partitions("construct_regions", ["eu", "us"])
    partitionings = {"daily": dg.DailyPartitionsDefinition(start_date="2024-01-01"),
                     "static": dg.StaticPartitionsDefinition(["x", "y", "z"]),
                     "dynamic": dg.DynamicPartitionsDefinition(name="construct_regions")}
    keys = {"daily": ("2024-01-02", "2024-01-03"), "static": ("x", "y"), "dynamic": ("eu", "us")}
    for kind, parts in partitionings.items():
        @dg.asset(name=f"construct_{kind}", partitions_def=parts)
        def partitioned() -> int:
            return 1

        asset_job = _job_def(dg.Definitions(assets=[partitioned], jobs=[dg.define_asset_job(
            f"construct_{kind}_job", selection=[partitioned])]), f"construct_{kind}_job")
        first, last = keys[kind]
        for label, tags in (("no_partition", {}), ("partition", {"dagster/partition": first}),
                            ("range", {"dagster/asset_partition_range_start": first,
                                       "dagster/asset_partition_range_end": last}),
                            ("partition_and_range", {"dagster/partition": first,
                                                     "dagster/asset_partition_range_start": first,
                                                     "dagster/asset_partition_range_end": last})):
            # the run as created and as stored are the same value (a caller may compare them)
            ctx.step(f"{kind}:{label}", lambda j=asset_job, t=tags: (lambda r: (
                r.status.value, sorted(r.tags), type(getattr(r, "partitions_subset", None)).__name__,
                r == instance.get_run_by_id(r.run_id)))(instance.create_run_for_job(j, tags=t)))
    return ctx.results

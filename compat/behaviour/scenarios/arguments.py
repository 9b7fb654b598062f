"""Argument scenarios: calls that pass what the other scenarios leave at its default (filters,
limits, cursors, ordering, buckets, event classes, time windows), so a base that drops or ignores
an argument returns something else.
"""

from __future__ import annotations

from compat.behaviour.scenarios.common import MISSING_RUN, _asset, _fresh_dir, _import, _ops_job, _origin, _value_of
from compat.behaviour.scenarios.registry import FIXED_TS, Ctx, scenario


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

    _asset_cursors(instance, ctx)

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



def _asset_cursors(instance, ctx: Ctx) -> None:
    """Cursors, limits and filters of asset events and records."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

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


@scenario("arguments_remaining", "events")
def arguments_remaining(instance, ctx: Ctx):
    """The parameters no other scenario gives a value: `of_type` of the per-run asset lookups
    (one type, a set, a type the run has none of), `run_id` of the asset event summaries,
    `job_failure_data` of `report_run_failed`, `repository_load_data` of `create_run_for_job`,
    the op selection and code origin of a managed run, and the constructors' `preload`,
    `settings` and `overrides`. A base that ignores one returns something else here."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    @dg.asset(name="args_parts", partitions_def=dg.StaticPartitionsDefinition(["x", "y"]))
    def args_parts() -> int:
        return 1

    key = dg.AssetKey("args_parts")
    run_id = dg.materialize([args_parts], instance=instance, partition_key="x").run_id
    instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="y"))
    mat, obs = DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION
    for label, of_type in (("one", mat), ("set", {mat, obs}), ("none_of", obs)):
        ctx.step(f"asset_keys_for_run:{label}", lambda t=of_type: sorted(
            k.to_user_string() for k in _value_of(instance, "get_asset_keys_for_run", run_id, of_type=t)))
        ctx.step(f"asset_partitions_for_run:{label}", lambda t=of_type: {
            k.to_user_string(): sorted(v) for k, v in _value_of(
                instance, "get_asset_partitions_for_run", run_id, of_type=t).items()})
    for label, run in (("of_run", run_id), ("of_other_run", MISSING_RUN)):
        ctx.step(f"event_summaries:{label}", lambda r=run: len(_value_of(
            instance, "get_asset_event_summary_records", mat, asset_key=key, run_id=r)))

    events = _import("JobFailureData", "dagster._core.events")
    reason = _import("RunFailureReason", "dagster._core.events", "dagster._core.storage.dagster_run")
    job = _ops_job("args_rest_job")
    failing = instance.create_run_for_job(job)
    ctx.step("report_run_failed:failure_data", lambda: (lambda e: (
        e.event_type_value, e.message, e.event_specific_data.failure_reason.value))(instance.report_run_failed(
            failing, message="step failed", job_failure_data=events(None, reason.STEP_FAILURE))))
    load_data = _import("RepositoryLoadData", "dagster._core.definitions.repository_definition")
    ctx.step("create_run_for_job:repository_load_data", lambda: (lambda r: (r.job_name, r.status.value))(
        instance.create_run_for_job(job, repository_load_data=load_data(
            cacheable_asset_data={}, reconstruction_metadata={}))))
    from compat.behaviour import defs

    origin = dg.reconstructable(defs.launched_job).get_python_origin()
    ctx.step("register_managed_run:selection_and_origin", lambda: (lambda r: (
        r.op_selection, r.job_code_origin is not None and r.job_code_origin.job_name))(instance.register_managed_run(
            "launched_job", "00000000-0000-0000-0000-00000000000c", {}, None, None, {}, None, None, None, None, None,
            op_selection=["launched_op"], job_code_origin=origin)))

    payload = _import("DebugRunPayload", "dagster._core.debug").build(instance, failing)

    def constructed(make, *readers):
        made = make()
        try:
            values = (getattr(made, r) for r in readers)  # a property in one release, a method in another
            return [type(made).__name__, made.get_runs_count(), *(v() if callable(v) else v for v in values)]
        finally:
            made.dispose()

    ctx.step("ephemeral:preload_settings", constructed, lambda: type(instance).ephemeral(
        tempdir=_fresh_dir(ctx.tmpdir, "eph"), preload=[payload], settings={"run_retries": {"enabled": True}}),
        "run_retries_enabled")
    ctx.step("local_temp:overrides", constructed, lambda: type(instance).local_temp(
        tempdir=_fresh_dir(ctx.tmpdir, "lto"), overrides={"run_retries": {"enabled": True, "max_retries": 3}}),
        "run_retries_enabled", "run_retries_max_retries")
    return ctx.results

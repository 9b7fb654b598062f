"""Asset, event and partition scenarios: runless materializations and observations, logging and
event listeners, event record queries, dynamic and materialized partitions, and the rarely
called asset members.
"""

from __future__ import annotations

from compat.behaviour.scenarios.common import _asset, _fresh_dir, _import, _job_def, _ops_job, _value_of
from compat.behaviour.scenarios.registry import FIXED_TS, Ctx, scenario


@scenario("assets_materializations", "assets")
def assets_materializations(instance, ctx: Ctx):
    """Runless materializations: keys, latest events, records, wiping."""
    import dagster as dg

    a, b = _asset("alpha"), _asset(["group", "beta"])
    ctx.step("report_a1", instance.report_runless_asset_event, dg.AssetMaterialization(a, metadata={"n": 1}))
    ctx.step("report_a2", instance.report_runless_asset_event, dg.AssetMaterialization(a, metadata={"n": 2}))
    ctx.step("report_b", instance.report_runless_asset_event, dg.AssetMaterialization(b, description="beta"))
    ctx.step("all_asset_keys", lambda: [k.to_user_string() for k in instance.all_asset_keys()])  # in its order
    ctx.step("get_asset_keys_prefix", lambda: [k.to_user_string() for k in instance.get_asset_keys(prefix=["group"])])
    ctx.step("has_a", instance.has_asset_key, a)
    ctx.step("latest_a_metadata", lambda: instance.get_latest_materialization_event(a).asset_materialization.metadata)
    ctx.step("fetch_a", lambda: [r.asset_materialization.metadata for r in instance.fetch_materializations(a, limit=10).records])
    ctx.step("asset_records", lambda: sorted(r.asset_entry.asset_key.to_user_string() for r in instance.get_asset_records()))
    ctx.step("code_versions", instance.get_latest_materialization_code_versions, [a])
    ctx.step("wipe_a", instance.wipe_assets, [a])
    ctx.step("has_a_after", instance.has_asset_key, a)
    ctx.step("keys_after", lambda: [k.to_user_string() for k in instance.all_asset_keys()])
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


@scenario("assets_checks_freshness_status", "assets")
def assets_checks_freshness_status(instance, ctx: Ctx):
    """Runless asset-check evaluations and freshness events (the kinds of runless event no other
    scenario reports), the status of each partition of an asset with a materialized and a failed
    partition, the latest storage id per partition without a cursor, a source asset's latest
    data version, and code versions of an asset never materialized."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    key = _asset("status_parts")
    ctx.step("report_check_evaluation", instance.report_runless_asset_event,
             dg.AssetCheckEvaluation(asset_key=key, check_name="rows_positive", passed=False,
                                     metadata={"rows": 0}))
    ctx.step("latest_check_evaluation", lambda: (lambda r: r and r.event.dagster_event.event_type_value)(
        _value_of(instance, "get_latest_asset_check_evaluation_record", dg.AssetCheckKey(key, "rows_positive"))))

    def freshness(name, **fields):  # the freshness events of releases that have them
        module = "dagster._core.definitions.freshness"
        state = _import("FreshnessState", module)
        return _import(name, module)(key=key, **{k: getattr(state, v) for k, v in fields.items()}, **(
            {"state_change_timestamp": FIXED_TS} if name == "FreshnessStateChange" else {}))

    ctx.step("report_freshness_evaluation", lambda: instance.report_runless_asset_event(
        freshness("FreshnessStateEvaluation", freshness_state="FAIL")))
    ctx.step("report_freshness_change", lambda: instance.report_runless_asset_event(
        freshness("FreshnessStateChange", new_state="PASS", previous_state="FAIL")))
    ctx.step("freshness_events", lambda: sorted(r.event_log_entry.dagster_event.event_type_value for r in
                                                instance.fetch_materializations(key, limit=5).records) + [
        e.dagster_event.event_type_value for e in instance.all_logs("") if e.dagster_event and
        "FRESHNESS" in e.dagster_event.event_type_value])

    parts = dg.StaticPartitionsDefinition(["a", "b", "c"])

    @dg.asset(key=key, partitions_def=parts)
    def status_parts(context) -> int:
        if context.partition_key == "b":
            raise ValueError("deliberate failure of partition b")
        return 1

    dg.materialize([status_parts], instance=instance, partition_key="a")
    dg.materialize([status_parts], instance=instance, partition_key="b", raise_on_error=False)
    ctx.step("status_by_partition", lambda: {p: s and s.value for p, s in (_value_of(
        instance, "get_status_by_partition", key, ["a", "b", "c"], parts) or {}).items()})
    # a run of partition c created and not started: its planned materialization is in progress
    ctx.step("create_run:partition_c", lambda: instance.create_run_for_job(_job_def(dg.Definitions(
        assets=[status_parts], jobs=[dg.define_asset_job("status_job", selection=[status_parts])]), "status_job"),
        tags={"dagster/partition": "c"}).status)
    ctx.step("status_by_partition:c_planned", lambda: {p: s and s.value for p, s in (_value_of(
        instance, "get_status_by_partition", key, ["a", "b", "c"], parts) or {}).items()})
    ctx.step("storage_id_by_partition:no_cursor", lambda: sorted(_value_of(
        instance, "get_latest_storage_id_by_partition", key, DagsterEventType.ASSET_MATERIALIZATION)))
    ctx.step("storage_id_by_partition:some", lambda: sorted(_value_of(
        instance, "get_latest_storage_id_by_partition", key, DagsterEventType.ASSET_MATERIALIZATION, {"b", "c"})))
    ctx.step("data_version_of_source", lambda: _value_of(
        instance, "get_latest_data_version_record", _asset("never_observed"), is_source=True))
    ctx.step("code_versions:never_materialized", lambda: {k.to_user_string(): v for k, v in _value_of(
        instance, "get_latest_materialization_code_versions", [_asset("never_materialized")]).items()})
    return ctx.results


@scenario("events_batches_and_filters", "events")
def events_batches_and_filters(instance, ctx: Ctx):
    """Events written in batches (batch writing switched on by its environment variable for the
    duration: a batch is held until it is full or ends, then stored at once), event record queries
    by the asset event types the base warns about, and yaml-defined python log handlers."""
    import logging
    import os

    import dagster as dg
    from dagster._core.event_api import EventRecordsFilter
    from dagster._core.events import DagsterEventType
    from dagster._core.events.log import EventLogEntry

    batch = _import("DagsterEventBatchMetadata", "dagster._core.events")
    job = _ops_job("batch_job")
    run = instance.create_run_for_job(job)

    def entry(i):
        return EventLogEntry(None, logging.INFO, f"batched {i}", run.run_id, FIXED_TS + i, job_name=job.name)

    def logged():
        return [e.user_message for e in instance.all_logs(run.run_id) if e.user_message.startswith("batched")]

    saved = os.environ.get("DAGSTER_EVENT_BATCH_SIZE")
    os.environ["DAGSTER_EVENT_BATCH_SIZE"] = "2"
    try:
        ctx.step("batch:held", lambda: (instance.handle_new_event(entry(0), batch_metadata=batch("b1", False)),
                                        logged())[1])
        ctx.step("batch:full", lambda: (instance.handle_new_event(entry(1), batch_metadata=batch("b1", False)),
                                        logged())[1])
        ctx.step("batch:ended", lambda: (instance.handle_new_event(entry(2), batch_metadata=batch("b2", True)),
                                         logged())[1])
    finally:
        if saved is None:
            os.environ.pop("DAGSTER_EVENT_BATCH_SIZE", None)
        else:
            os.environ["DAGSTER_EVENT_BATCH_SIZE"] = saved

    key = _asset("filtered")
    instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="p1"))
    instance.report_runless_asset_event(dg.AssetObservation(key))
    for label, flt in (("materialization", EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION, asset_key=key)),
                       ("observation", EventRecordsFilter(DagsterEventType.ASSET_OBSERVATION, asset_key=key)),
                       ("planned_partitions", EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                                                                 asset_key=key, asset_partitions=["p1"]))):
        ctx.step(f"event_records:{label}", lambda f=flt: len(instance.get_event_records(f)))

    def handlers():
        made = type(instance).local_temp(tempdir=_fresh_dir(ctx.tmpdir, "logs"), overrides={"python_logs": {
            "dagster_handler_config": {"handlers": {"compat": {"class": "logging.NullHandler"}}}}})
        try:
            return [type(h).__name__ for h in made.get_yaml_python_handlers()]
        finally:
            made.dispose()

    ctx.step("yaml_python_handlers", handlers)
    return ctx.results


class _NamedRequest:
    """Names a partitions definition as a request does, and is neither kind of request."""

    def __init__(self, partitions_def_name: str) -> None:
        self.partitions_def_name = partitions_def_name

    def __repr__(self) -> str:  # the base's refusal quotes it: no address in the trace
        return f"_NamedRequest({self.partitions_def_name!r})"


@scenario("partitions_loader_and_requests", "partitions")
def partitions_loader_and_requests(instance, ctx: Ctx):
    """The caching loader the asset daemons wrap an instance in, asked one key at a time and a
    batch twice (the second answered from what the first learned), and the store of dynamic
    partitions as it will be after add and delete requests. Both come from the instance package
    (not in every release: a missing one is the step's exception)."""
    import dagster as dg

    ctx.dynamic_partition_names.add("loader_fruits")
    instance.add_dynamic_partitions("loader_fruits", ["apple", "banana"])
    loader = ctx.step("loader", lambda: type(_import(
        "CachingDynamicPartitionsLoader", "dagster._core.instance.types")(instance)).__name__)
    if loader is None:
        return ctx.results
    made = _import("CachingDynamicPartitionsLoader", "dagster._core.instance.types")(instance)
    ctx.step("loader:has_one", lambda: [made.has_dynamic_partition("loader_fruits", k) for k in ("apple", "kiwi")])
    ctx.step("loader:has_again", lambda: made.has_dynamic_partition("loader_fruits", "apple"))
    ctx.step("loader:existing", lambda: made.get_existing_dynamic_partitions("loader_fruits", ["banana", "kiwi"]))
    ctx.step("loader:existing_again", lambda: made.get_existing_dynamic_partitions("loader_fruits", ["apple", "kiwi"]))
    after = _import("DynamicPartitionsStoreAfterRequests", "dagster._core.instance.types")
    requests = [dg.AddDynamicPartitionsRequest("loader_fruits", ["cherry"]),
                dg.DeleteDynamicPartitionsRequest("loader_fruits", ["apple"])]
    # its list is built from sets (its order changes with the hash seed): the keys, sorted, and the type
    ctx.step("after_requests", lambda: (lambda got: [type(got).__name__, sorted(got)])(
        after.from_requests(made, requests).get_dynamic_partitions("loader_fruits")))
    ctx.step("after_requests:paginated", lambda: (lambda got: [type(got).__name__, sorted(got.results), got.has_more])(
        after.from_requests(made, requests).get_paginated_dynamic_partitions("loader_fruits", limit=5, ascending=True)))
    ctx.step("after_requests:not_a_request", lambda: after.from_requests(made, ["not a request"]))
    # something that names a partitions definition but is neither an add nor a delete request
    ctx.step("after_requests:neither_request", lambda: after.from_requests(made, [_NamedRequest("loader_fruits")]))
    return ctx.results

"""Execution scenarios: snapshots persisted for a run, jobs and partitioned assets executed in
process on the instance, and the run-retry decision.
"""

from __future__ import annotations

from typing import Any

from compat.behaviour.scenarios.common import _assets_defs, _ops_job
from compat.behaviour.scenarios.registry import Ctx, scenario


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
    ctx.step("asset_keys", lambda: [k.to_user_string() for k in instance.all_asset_keys()])  # in its order
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

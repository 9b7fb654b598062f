"""Module-level definitions for behaviour scenarios that need a reconstructable job (run
launchers rebuild the job from its code origin, so it must be importable by module path)."""

from __future__ import annotations

import dagster as dg


@dg.op
def launched_op() -> int:
    return 3


@dg.job(tags={"launched": "yes"}, executor_def=dg.in_process_executor)
def launched_job():
    launched_op()


# a code location loaded in process (no code server): what the members that take a remote job,
# schedule or sensor need (re-execution, starting and stopping instigators)
@dg.op
def reexec_source() -> int:
    return 1


@dg.op
def reexec_fails(x: int) -> int:
    raise ValueError(f"deliberate failure after {x}")


@dg.job(tags={"location": "compat"}, executor_def=dg.in_process_executor)
def reexec_job():
    reexec_fails(reexec_source())


@dg.asset
def reexec_asset() -> int:
    return 1


@dg.asset(deps=[reexec_asset])
def reexec_failing_asset() -> int:
    raise ValueError("deliberate asset failure")


# materialized, then its blocking check fails: a retry from asset failure must run both again
@dg.asset
def reexec_checked_asset() -> int:
    return 2


@dg.asset_check(asset=reexec_checked_asset, blocking=True)
def reexec_blocking_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False)


reexec_assets_job = dg.define_asset_job(
    "reexec_assets_job", selection=[reexec_asset, reexec_failing_asset, reexec_checked_asset],
    executor_def=dg.in_process_executor)
location_schedule = dg.ScheduleDefinition(name="location_schedule", job=reexec_job, cron_schedule="0 0 * * *")


@dg.sensor(job=reexec_job, minimum_interval_seconds=45)
def location_sensor():
    return None


@dg.sensor(job=reexec_job, default_status=dg.DefaultSensorStatus.RUNNING)
def location_running_sensor():
    return None


location_defs = dg.Definitions(assets=[reexec_asset, reexec_failing_asset, reexec_checked_asset],
                               asset_checks=[reexec_blocking_check], jobs=[reexec_job, reexec_assets_job],
                               schedules=[location_schedule], sensors=[location_sensor, location_running_sensor])

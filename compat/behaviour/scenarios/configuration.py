"""Configuration scenarios: every setting reader with and without settings, the constructors a
subclass inherits, and what the base refuses to be built from.
"""

from __future__ import annotations

from typing import Any

from compat.behaviour.scenarios.common import MISSING_RUN, _fresh_dir, _import
from compat.behaviour.scenarios.registry import Ctx, scenario


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



# tick retention as days per status, some statuses left out (each is optional)
RETENTION_SETTINGS = {"retention": {"schedule": {"purge_after_days": 30},
                                    "sensor": {"purge_after_days": {"skipped": 1, "failure": 10}},
                                    "auto_materialize": {"purge_after_days": {"success": 3}}}}


# dagster.yaml documents the base accepts, though a stricter schema (a field made required) or
# another default would refuse or read them otherwise
ACCEPTED_CONFIGS = {
    "auto_materialize_without_run_tags": {"auto_materialize": {"enabled": False}},
    "nux_disabled": {"nux": {"enabled": False}},
    "pools_in_range_op_granularity": {"concurrency": {"pools": {"default_limit": 2, "granularity": "op"}}},
    "default_limit_in_range": {"concurrency": {"default_op_concurrency_limit": 1}},
    "runs_and_queue_without_limits": {"concurrency": {"runs": {"max_concurrent_runs": 2}},
                                      "run_queue": {"max_user_code_failure_retries": 1}},
    "runs_and_default_coordinator": {"concurrency": {"runs": {"max_concurrent_runs": 2}},
                                     "run_coordinator": {"module": "dagster", "class": "DefaultRunCoordinator"}},
    "runs_and_queued_coordinator_without_limits": {
        "concurrency": {"runs": {"max_concurrent_runs": 2}},
        "run_coordinator": {"module": "dagster", "class": "QueuedRunCoordinator",
                            "config": {"max_user_code_failure_retries": 1}}},
    "run_queue_alone": {"run_queue": {"max_concurrent_runs": 3}},
    "retention_per_status": RETENTION_SETTINGS,
    "storage_sqlite_base_dir_from_env": {"storage": {"sqlite": {"base_dir": {"env": "DAGSTER_HOME"}}}},
    "legacy_run_storage": {"run_storage": {"module": "dagster._core.storage.runs", "class": "SqliteRunStorage",
                                           "config": {"base_dir": {"env": "DAGSTER_HOME"}}}},
    "secrets_custom": {"secrets": {"custom": {"module": "dagster._core.secrets.env_file",
                                              "class": "PerProjectEnvFileLoader",
                                              "config": {"location_paths": {}}}}},
}


# dagster.yaml documents that pass validation but name what cannot be built here: storages of
# packages that are not installed, and the base class named as a custom instance class (it has
# no config schema of its own); the base reads each a branch of its own before it gives up
UNBUILT_CONFIGS = {
    "storage_postgres": {"storage": {"postgres": {"postgres_url": "postgresql://compat@127.0.0.1:1/none"}}},
    "storage_mysql": {"storage": {"mysql": {"mysql_url": "mysql+mysqlconnector://compat@127.0.0.1:1/none"}}},
    "instance_class_base": {"instance_class": {"module": "dagster._core.instance", "class": "DagsterInstance"}},
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
    for name, document in UNBUILT_CONFIGS.items():
        home = _fresh_dir(ctx.tmpdir, f"yaml-unbuilt-{name}")
        with open(os.path.join(home, "dagster.yaml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump(document, fh, sort_keys=True)
        ctx.step(f"yaml_unbuilt:{name}", build_from_yaml, home)
    from dagster._core.instance.ref import InstanceRef

    ctx.step("ref_round_trip", lambda: InstanceRef.from_dict(instance.get_ref().to_dict()) == instance.get_ref())
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



def _retention(instance, ctx: Ctx):
    from dagster._core.scheduler.instigation import InstigatorType

    for kind in ("SCHEDULE", "SENSOR", "AUTO_MATERIALIZE"):
        ctx.step(f"get_tick_retention_settings:{kind}", lambda k=kind: {
            status.value: days for status, days in instance.get_tick_retention_settings(
                getattr(InstigatorType, k)).items()})
    ctx.step("get_tick_retention_settings:not_a_type", instance.get_tick_retention_settings, "SCHEDULE")
    ctx.step("get_settings:retention", instance.get_settings, "retention")
    return ctx.results


@scenario("configuration_retention_defaults", "configuration")
def configuration_retention_defaults(instance, ctx: Ctx):
    """Tick retention per instigator type on an instance with no retention settings."""
    return _retention(instance, ctx)


@scenario("configuration_retention", "configuration", settings=RETENTION_SETTINGS)
def configuration_retention(instance, ctx: Ctx):
    """Tick retention per instigator type with one number of days for every status (schedules),
    days per status (sensors, auto-materialize) and a type that is not an instigator type."""
    return _retention(instance, ctx)


@scenario("configuration_sparse", "configuration")
def configuration_sparse(instance, ctx: Ctx):
    """Instances built with settings sections given without their keys (telemetry, nux: the
    defaults apply), run monitoring enabled without resume attempts (a run does not resume), and
    with resume attempts on a launcher that cannot resume (refused when built), and the daemons an
    instance with the default coordinator, run monitoring and no asset daemons requires."""
    def built(overrides, *readers, run_id=None):
        made = type(instance).local_temp(tempdir=_fresh_dir(ctx.tmpdir, "sparse"), overrides=overrides)
        try:
            values = [(v() if callable(v) else v) for v in (getattr(made, r) for r in readers)]
            return values + ([made.run_will_resume(run_id)] if run_id else [])
        finally:
            made.dispose()

    ctx.step("telemetry_and_nux_without_keys", built, {"telemetry": {}, "nux": {}}, "telemetry_enabled", "nux_enabled")
    ctx.step("monitoring_without_resume", built, {"run_monitoring": {"enabled": True}}, "run_monitoring_enabled",
             "run_monitoring_max_resume_run_attempts", run_id=MISSING_RUN)
    ctx.step("monitoring_resume_unsupported", built, {"run_monitoring": {"enabled": True, "max_resume_run_attempts": 2}},
             "run_monitoring_enabled")
    # the daemons a persistent instance needs follow its coordinator and settings
    ctx.step("daemons:monitoring_default_coordinator_no_asset_daemons", built, {
        "run_monitoring": {"enabled": True},
        "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
        "auto_materialize": {"enabled": False, "use_sensors": False}, "freshness": {"enabled": False}},
        "get_required_daemon_types")
    return ctx.results

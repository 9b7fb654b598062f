"""The smoke checks of each corpus class (``CHECKS``: name -> its checks), run by
:mod:`compat.corpus.smoke`. Imports: stdlib, dagster and the corpus.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable

from compat.corpus import STORAGES, direct_kwargs, make_instance
from compat.corpus.smoke_kit import _fresh_dir, _outcome, _Built, _job, _log_entry, _create_run_directly

# ---------------------------------------------------------------------------------------------
# per-class checks: name -> {check: fn}


def _checks_base() -> dict[str, Callable[[], Any]]:
    from dagster._core.instance import DagsterInstance

    def names_after_init_and_enter():
        with _Built("base") as instance:
            after_init = sorted(vars(instance))
            with instance:
                after_enter = sorted(vars(instance))
            return {"after_init": after_init, "after_enter": after_enter}

    def defaults():
        with _Built("base") as instance:
            return {
                "telemetry_enabled": instance.telemetry_enabled,
                "run_retries_enabled": instance.run_retries_enabled,
                "should_start_background_run_thread": instance.should_start_background_run_thread,
                "required_daemon_types": list(instance.get_required_daemon_types()),
                "has_defs_state_storage_member": hasattr(DagsterInstance, "defs_state_storage"),
            }

    return {"instance_names": names_after_init_and_enter, "defaults": defaults}


def _checks_telemetry_off():
    def check():
        with _Built("telemetry-off") as instance:
            return {
                "telemetry_enabled": instance.telemetry_enabled,
                "base_telemetry_enabled": instance.base_telemetry_enabled,
            }

    return {"telemetry": check}


def _checks_run_retries_forbidden():
    def props():
        with _Built("run-retries-forbidden") as instance:
            return {
                "run_retries_enabled": instance.run_retries_enabled,
                "max_retries": _outcome(lambda: instance.run_retries_max_retries),
                "retry_on_asset_or_op_failure": _outcome(
                    lambda: instance.run_retries_retry_on_asset_or_op_failure
                ),
            }

    def run_failure():
        with _Built("run-retries-forbidden") as instance:
            run = instance.create_run_for_job(job_def=_job())
            reported = _outcome(lambda: instance.report_run_failed(run) and None)
            stored = instance.get_run_by_id(run.run_id)
            return {
                "report_run_failed": reported,
                "status": stored.status.value,
                "tags": dict(stored.tags),
            }

    return {"properties": props, "run_failure": run_failure}


def _checks_no_daemons():
    def check():
        with _Built("no-daemons") as instance:
            return {
                "required": list(instance.get_required_daemon_types()),
                "base_required": list(instance.base_required_daemon_types()),
                "statuses": sorted(instance.get_daemon_statuses()),
            }

    return {"daemons": check}


def _checks_no_defs_state():
    def check():
        with _Built("no-defs-state") as instance:
            with instance:
                inside = instance.defs_state_storage
            return {"defs_state_storage": inside}

    return {"defs_state_storage": check}


def _checks_protected_reader():
    from compat.corpus.storage_overrides import BASE_HAS_DEFS_STATE_STORAGE, ProtectedReaderInstance

    def check():
        with _Built("protected-reader") as instance:
            summary = dict(instance.protected_summary())
            summary["local_artifact_base_dir"] = (
                summary["local_artifact_base_dir"] == instance.root_directory
            )
            return {
                "summary": summary,
                "run_storage_is_slot": instance.run_storage is instance._run_storage,
                "run_monitoring_settings": instance.get_settings("run_monitoring"),
                "defs_state_override_defined": "defs_state_storage" in vars(ProtectedReaderInstance),
                "base_has_defs_state_storage": BASE_HAS_DEFS_STATE_STORAGE,
                "defs_state_storage": (
                    type(instance.defs_state_storage).__name__
                    if BASE_HAS_DEFS_STATE_STORAGE
                    else None
                ),
            }

    return {"protected": check}


def _checks_custom_init():
    from dagster._core.instance import InstanceRef

    def built(via):
        def check():
            with _Built("custom-init", via=via) as instance:
                return {
                    "cloud_config": dict(instance.cloud_config),
                    "forwarded_kwarg_names": instance.forwarded_kwarg_names,
                    "legacy_api_url_dropped": not hasattr(instance, "_legacy_api_url"),
                }

        return check

    def missing_required_key():
        base_dir = _fresh_dir()
        with open(os.path.join(base_dir, "dagster.yaml"), "w") as fh:
            json.dump(
                {"instance_class": {"module": "compat.corpus.lifecycle", "class": "CustomInitInstance"}},
                fh,
            )
        InstanceRef.from_dir(base_dir)
        return "accepted"

    return {
        "yaml": built("yaml"),
        "direct": built("direct"),
        "missing_required_key": missing_required_key,
    }


def _checks_disposing():
    def check():
        build = _Built("disposing")
        instance = make_instance("disposing", build.base_dir)
        with instance:
            instance.cache_put("k", "v")
            value = instance.cache_get("k")
        closed = _outcome(lambda: instance.cache_get("k"))
        return {
            "value": value,
            "dispose_calls": instance.dispose_calls,
            "resources_released": instance.resources_released,
            "use_after_dispose": closed,
        }

    return {"dispose": check}


def _checks_get_narrowing():
    from compat.corpus import write_instance_yaml
    from compat.corpus.lifecycle import GetNarrowingInstance

    def with_home(name):
        def check():
            home = _fresh_dir()
            write_instance_yaml(name, home)
            previous = os.environ.get("DAGSTER_HOME")
            os.environ["DAGSTER_HOME"] = home
            try:
                instance = GetNarrowingInstance.get()
                try:
                    return type(instance).__name__
                finally:
                    instance.dispose()
            finally:
                if previous is None:
                    os.environ.pop("DAGSTER_HOME", None)
                else:
                    os.environ["DAGSTER_HOME"] = previous

        return check

    return {"get_subclass": with_home("get-narrowing"), "get_base_rejected": with_home("base")}


def _checks_config_defaults():
    from compat.corpus.lifecycle import ConfigDefaultsInstance
    from compat.corpus.storage_overrides import BASE_HAS_DEFS_STATE_STORAGE

    def check():
        with _Built("config-defaults") as instance:
            os.environ.pop("CORPUS_DEFAULT_SECRET", None)
            try:
                instance.inject_env_vars(None)
                injected = os.environ.get("CORPUS_DEFAULT_SECRET")
            finally:
                os.environ.pop("CORPUS_DEFAULT_SECRET", None)
            _create_run_directly(instance, _job(), {})
            storage_dir = os.path.join(instance.root_directory, ConfigDefaultsInstance.STORAGE_SUBDIR)
            return {
                "compute_log_manager": type(instance.compute_log_manager).__name__,
                "secrets_loader": type(instance._secrets_loader).__name__,
                "storage_dir_used": os.path.isdir(storage_dir),
                "default_history_dir_used": os.path.isdir(
                    os.path.join(instance.root_directory, "history")
                ),
                "secret_injected": injected,
                # dagster >= 1.11.8 only; older ones have no defs-state component
                "defs_state_in_storage_dir": (
                    str(instance.defs_state_storage.base_path).startswith(storage_dir)
                    if BASE_HAS_DEFS_STATE_STORAGE
                    else None
                ),
            }

    return {"defaults": check}


def _checks_own_launcher():
    def check():
        with _Built("own-launcher") as instance:
            launcher = instance.run_launcher
            run = instance.create_run_for_job(job_def=_job())
            launched = _outcome(lambda: instance.launch_run(run.run_id, workspace=None).status.value)
            resumed = _outcome(
                lambda: instance.resume_run(run.run_id, workspace=None, attempt_number=1) and None
            )
            instance.dispose()
            return {
                "launcher": type(launcher).__name__,
                "created_during_base_init": launcher.created_during_base_init,
                "run_monitoring_enabled": instance.run_monitoring_enabled,
                "launch_run": launched,
                "resume_run": resumed,
                "launched": list(launcher.launched.values()),
                "resumed": list(launcher.resumed.values()),
                "launcher_disposed": launcher.disposed,
            }

    return {"launcher": check}


def _checks_background_thread():
    def check():
        with _Built("background-thread") as instance:
            return instance.should_start_background_run_thread

    return {"should_start_background_run_thread": check}


def _checks_chain_intermediate():
    from compat.corpus.chain import ChainIntermediateInstance

    def unknown_kwargs():
        kwargs = direct_kwargs("chain-intermediate", _fresh_dir(), storage="memory")
        kwargs["component_from_the_future"] = object()
        instance = ChainIntermediateInstance(**kwargs)
        try:
            return {
                "type": type(instance).__name__,
                "telemetry_enabled": instance.telemetry_enabled,
                "required_daemon_types": list(instance.get_required_daemon_types()),
            }
        finally:
            instance.dispose()

    return {"unknown_kwargs": unknown_kwargs}


def _checks_chain_leaf():
    from dagster._core.instance import DagsterInstance

    def check():
        with _Built("chain-leaf") as instance:
            leaf = list(instance.get_required_daemon_types())
            return {
                "telemetry_enabled": instance.telemetry_enabled,
                "daemons_match_base": leaf == list(DagsterInstance.get_required_daemon_types(instance)),
                "daemons_nonempty": bool(leaf),
            }

    return {"chain": check}


def _checks_event_filter():
    def check(storage):
        def run():
            with _Built("event-filter", storage=storage) as instance:
                run = instance.create_run_for_job(job_def=_job())
                instance.handle_new_event(_log_entry(run.run_id, logging.DEBUG, "debug-handled"))
                instance.handle_new_event(_log_entry(run.run_id, logging.INFO, "info-handled"))
                instance.store_event(_log_entry(run.run_id, logging.DEBUG, "debug-stored"))
                instance.store_event(_log_entry(run.run_id, logging.WARNING, "warning-stored"))
                return {
                    "stored": [e.user_message for e in instance.all_logs(run.run_id)],
                    "dropped": list(instance.dropped_messages),
                }

        return run

    return {"filter:sqlite": check("sqlite"), "filter:memory": check("memory")}


def _checks_create_run_tags():
    def check():
        job_def = _job()
        with _Built("create-run-tags") as instance:
            direct = _create_run_directly(instance, job_def, {"caller": "yes"})
            calls_after_direct = instance.create_run_calls
            for_job = instance.create_run_for_job(job_def=job_def, tags={"caller": "yes"})
            calls_after_for_job = instance.create_run_calls
            result = job_def.execute_in_process(instance=instance, tags={"caller": "yes"})
            executed = instance.get_run_by_id(result.run_id)
            return {
                "create_run": dict(direct.tags),
                "create_run_for_job": dict(for_job.tags),
                "execute_in_process": dict(executed.tags),
                "calls": [calls_after_direct, calls_after_for_job, instance.create_run_calls],
            }

    return {"tags": check}


def _checks_settings_override():
    def check():
        with _Built("settings-override") as instance:
            return {
                "sensor_settings": dict(instance.get_sensor_settings()),
                "run_monitoring_enabled": instance.run_monitoring_enabled,
                "poll_interval": instance.run_monitoring_poll_interval_seconds,
                "first_read": instance._settings_reads[0] if instance._settings_reads else None,
                "monitoring_daemon_required": "MONITORING" in instance.get_required_daemon_types(),
            }

    return {"settings": check}


def _checks_ref_roundtrip():
    def round_trip():
        with _Built("ref-roundtrip") as instance:
            copy = instance.with_settings({"run_retries": {"enabled": True}})
            relabeled = instance.with_label("secondary")
            try:
                return {
                    "copy_type": type(copy).__name__,
                    "copy_run_retries_enabled": copy.run_retries_enabled,
                    "copy_label": copy.label,
                    "original_run_retries_enabled": instance.run_retries_enabled,
                    "relabeled_type": type(relabeled).__name__,
                    "relabeled_label": relabeled.label,
                }
            finally:
                copy.dispose()
                relabeled.dispose()

    def direct_sqlite():
        with _Built("ref-roundtrip", via="direct") as instance:
            copy = instance.with_label("direct-copy")
            try:
                return [type(copy).__name__, copy.label]
            finally:
                copy.dispose()

    def ephemeral():
        with _Built("ref-roundtrip", storage="memory", via="direct") as instance:
            instance.with_label("never")
            return "no error"

    return {"yaml": round_trip, "direct:sqlite": direct_sqlite, "direct:memory": ephemeral}


def _checks_private_state():
    from dagster._core.instance import DagsterInstance

    from compat.corpus.private import PrivateStateInstance

    def check():
        with _Built("base") as base:
            base_names = set(vars(base))
            with base:
                base_names |= set(vars(base))
        base_members = set(dir(DagsterInstance))
        with _Built("private-state") as instance:
            instance.cloud_record("deployment", "prod")
            with instance:
                inside = instance.cloud_session_open
                looked_up = instance.cloud_lookup("deployment")
            return {
                "attribute_clashes": sorted(set(PrivateStateInstance.SUBCLASS_ATTRIBUTES) & base_names),
                "member_clashes": sorted(
                    (set(PrivateStateInstance.SUBCLASS_MEMBERS) | set(PrivateStateInstance.SUBCLASS_ATTRIBUTES))
                    & base_members
                ),
                "session_open_inside": inside,
                "session_open_after": instance.cloud_session_open,
                "looked_up": looked_up,
                "state_size": instance.cloud_state_size,
            }

    return {"private": check}


def _checks_self_registering():
    def check():
        with _Built("self-registering") as instance:
            os.environ.pop("CORPUS_SECRET", None)
            try:
                instance.inject_env_vars("corpus_loc")
                injected = os.environ.get("CORPUS_SECRET")
            finally:
                os.environ.pop("CORPUS_SECRET", None)
            secrets, launcher = instance.location_secrets_loader, instance.user_code_launcher
            result = {
                "secrets_registered": secrets._instance is instance,
                "launcher_registered": launcher._instance is instance,
                "injected": injected,
            }
        result["released"] = [secrets.disposed, launcher.disposed]
        return result

    return {"components": check}


def _checks_cloud_like():
    from compat.corpus import write_instance_yaml
    from compat.corpus.cloud import CloudLikeInstance

    def props():
        with _Built("cloud-like") as instance:
            value = {
                "telemetry_enabled": instance.telemetry_enabled,
                "defs_state_storage": instance.defs_state_storage,
                "run_retries_enabled": instance.run_retries_enabled,
                "max_retries": _outcome(lambda: instance.run_retries_max_retries),
                "required_daemon_types": list(instance.get_required_daemon_types()),
                "deployment_name": instance.deployment_name,
                "compute_log_manager": type(instance.compute_log_manager).__name__,
                "secrets_loader": type(instance._secrets_loader).__name__,
                "session_open": instance.cloud_api_session_open,
            }
            with instance:
                pass
            value["session_open_after_exit"] = instance.cloud_api_session_open
            return value

    def get():
        home = _fresh_dir()
        write_instance_yaml("cloud-like", home)
        previous = os.environ.get("DAGSTER_HOME")
        os.environ["DAGSTER_HOME"] = home
        try:
            instance = CloudLikeInstance.get()
            try:
                return [type(instance).__name__, instance.deployment_name]
            finally:
                instance.dispose()
        finally:
            if previous is None:
                os.environ.pop("DAGSTER_HOME", None)
            else:
                os.environ["DAGSTER_HOME"] = previous

    def for_deployment():
        with _Built("cloud-like") as instance:
            other = instance.for_deployment("staging")
            try:
                return [type(other).__name__, other.deployment_name, instance.deployment_name]
            finally:
                other.dispose()

    return {"properties": props, "get": get, "for_deployment": for_deployment}


def _checks_cloud_like_agent():
    from dagster._core.instance import DagsterInstance

    def agent():
        with _Built("cloud-like-agent") as instance:
            launcher = instance.run_launcher
            run = instance.create_run_for_job(job_def=_job())
            launched = _outcome(lambda: instance.launch_run(run.run_id, workspace=None).status.value)
            daemons = list(instance.get_required_daemon_types())
            defs_state = instance.defs_state_storage
            value = {
                "launcher": type(launcher).__name__,
                "created_during_base_init": launcher.created_during_base_init,
                "launch_run": launched,
                "launched": list(launcher.launched.values()),
                "daemons_match_base": daemons == list(DagsterInstance.get_required_daemon_types(instance)),
                "monitoring_daemon_required": "MONITORING" in daemons,
                "defs_state_storage": None if defs_state is None else type(defs_state).__name__,
                "should_start_background_run_thread": instance.should_start_background_run_thread,
                "telemetry_enabled": instance.telemetry_enabled,
                "agent_queues": list(instance.agent_queues),
                "user_code_launcher_registered": instance.user_code_launcher._instance is instance,
            }
            user_code_launcher = instance.user_code_launcher
            instance.dispose()
            value["released"] = [
                user_code_launcher.disposed, launcher.disposed, not instance.cloud_api_session_open
            ]
            return value

    def for_deployment():
        with _Built("cloud-like-agent") as instance:
            other = instance.for_deployment("staging")
            try:
                return [type(other).__name__, other.deployment_name, list(other.agent_queues)]
            finally:
                other.dispose()

    return {"agent": agent, "for_deployment": for_deployment}


def _checks_exit_stack_owner():
    def released(enter_launcher_before_with: bool, use_with: bool):
        def check():
            build = _Built("exit-stack-owner")
            instance = make_instance("exit-stack-owner", build.base_dir)
            launcher = instance.user_code_launcher if enter_launcher_before_with else None
            if use_with:
                with instance:
                    if launcher is None:
                        launcher = instance.user_code_launcher
            else:
                if launcher is None:
                    launcher = instance.user_code_launcher
                instance.dispose()
            return launcher.disposed

        return check

    return {
        "released:entered_before_with": released(True, True),
        "released:entered_inside_with": released(False, True),
        "released:dispose_without_with": released(True, False),
    }


def _checks_forwarding_storages():
    def forwarded(storage):
        def check():
            from dagster._core.storage.dagster_run import RunsFilter

            with _Built("forwarding-storages", storage=storage) as instance:
                first = len(instance.compat_forwarded)
                instance.get_runs(filters=RunsFilter(job_name="x"), limit=3, ascending=True)
                calls = instance.compat_forwarded[first:]
                out = {"storages": [type(s).__name__ for s in (instance.run_storage, instance.event_log_storage)],
                       "calls": [[role, method, len(args), sorted(kwargs)] for role, method, args, kwargs in calls],
                       "limit": calls[0][2][2] if calls and len(calls[0][2]) > 2 else None}
            # built with its parts (as the behaviour cells build it; from a dagster.yaml the base
            # builds the compute log manager itself on first use), its compute log manager is noted
            # too, with the file key dagster draws at random named by rank
            with _Built("forwarding-storages", storage=storage, via="direct") as instance:
                key = instance.compute_log_manager.build_log_key_for_run("run", "qwertyui")
                role, method, args, _ = instance.compat_forwarded[-1]
                return {**out, "compute_log_manager": type(instance.compute_log_manager).__name__,
                        "log_key": list(key), "log_key_noted": [role, method, list(args)]}

        return check

    return {f"forwarded:{storage}": forwarded(storage) for storage in STORAGES}


CHECKS: dict[str, Callable[[], dict[str, Callable[[], Any]]]] = {
    "base": _checks_base,
    "background-thread": _checks_background_thread,
    "chain-intermediate": _checks_chain_intermediate,
    "chain-leaf": _checks_chain_leaf,
    "cloud-like": _checks_cloud_like,
    "cloud-like-agent": _checks_cloud_like_agent,
    "config-defaults": _checks_config_defaults,
    "create-run-tags": _checks_create_run_tags,
    "custom-init": _checks_custom_init,
    "disposing": _checks_disposing,
    "event-filter": _checks_event_filter,
    "exit-stack-owner": _checks_exit_stack_owner,
    "forwarding-storages": _checks_forwarding_storages,
    "get-narrowing": _checks_get_narrowing,
    "no-daemons": _checks_no_daemons,
    "no-defs-state": _checks_no_defs_state,
    "own-launcher": _checks_own_launcher,
    "private-state": _checks_private_state,
    "protected-reader": _checks_protected_reader,
    "ref-roundtrip": _checks_ref_roundtrip,
    "run-retries-forbidden": _checks_run_retries_forbidden,
    "self-registering": _checks_self_registering,
    "settings-override": _checks_settings_override,
    "telemetry-off": _checks_telemetry_off,
}

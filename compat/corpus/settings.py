"""Overrides of settings-derived members (the members the refactor moved into a settings mixin).

Every class here defines ``config_schema()`` and ``config_defaults()`` because
``InstanceRef.from_dir`` calls both on any ``instance_class:`` without checking that they exist;
the ones here add nothing to the base configuration.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from dagster import Field, Map
from dagster._core.instance import DagsterInstance, InstanceRef


class TelemetryOffInstance(DagsterInstance):
    """Pattern 1 (and 20): ``DagsterCloudInstance.telemetry_enabled`` returns ``False``.

    The constant ignores the ``telemetry:`` settings entirely. ``base_telemetry_enabled`` asks
    ``super()`` so a caller can check that ``super()`` still lands on a working base property
    after the property moved into a mixin.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    @property
    def telemetry_enabled(self) -> bool:
        return False

    @property
    def base_telemetry_enabled(self) -> bool:
        return super().telemetry_enabled


class RunRetriesForbiddenInstance(DagsterInstance):
    """Pattern 3 (and 20): ``DagsterCloudInstance.run_retries_max_retries`` and
    ``run_retries_retry_on_asset_or_op_failure`` raise ``NotImplementedError``.

    The sibling ``run_retries_enabled`` is deliberately not overridden: it keeps reading the
    ``run_retries:`` settings. Any base path that reaches the forbidden properties (the retry
    decision in run-failure event handling, the auto re-execution daemon) raises.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    @property
    def run_retries_max_retries(self) -> int:
        raise NotImplementedError("max_retries is managed by the deployment, not the instance")

    @property
    def run_retries_retry_on_asset_or_op_failure(self) -> bool:
        raise NotImplementedError(
            "retry_on_asset_or_op_failure is managed by the deployment, not the instance"
        )


class NoDaemonsInstance(DagsterInstance):
    """Pattern 4 (and 20): ``DagsterCloudInstance.get_required_daemon_types`` returns ``[]``.

    ``base_required_daemon_types()`` reaches the base implementation through ``super()``.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def get_required_daemon_types(self) -> Sequence[str]:
        return []

    def base_required_daemon_types(self) -> Sequence[str]:
        return super().get_required_daemon_types()


class SettingsOverrideInstance(DagsterInstance):
    """Settings override through ``get_settings`` (dagster-cloud serves deployment settings
    from its API; here they are the subclass's own ``settings_overrides`` config), falling back
    to ``super().get_settings``. Also pattern 10: base ``__init__`` calls this override.

    Base ``__init__`` already calls ``get_settings("run_monitoring")`` (through
    ``run_monitoring_settings``), so the override's state is stored *before*
    ``super().__init__`` runs; overriding a key there therefore also reaches the run-monitoring
    set-up. Every settings-derived base property must dispatch through ``self.get_settings``
    for the overrides to take effect.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {
            "settings_overrides": Field(
                Map(str, dict), is_required=False, default_value={},
                description="settings keys answered by the subclass instead of dagster.yaml",
            )
        }

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, settings_overrides: Mapping[str, Mapping] | None = None,
                 **kwargs: Any):
        self._settings_overrides = {k: dict(v) for k, v in (settings_overrides or {}).items()}
        self._settings_reads: list[str] = []
        super().__init__(*args, **kwargs)

    def get_settings(self, settings_key: str) -> Any:
        self._settings_reads.append(settings_key)
        if settings_key in self._settings_overrides:
            return self._settings_overrides[settings_key]
        return super().get_settings(settings_key)


class BackgroundThreadInstance(DagsterInstance):
    """Pattern 8: ``DagsterCloudAgentInstance.should_start_background_run_thread`` is driven by
    the subclass's own config (``cancellation_thread_enabled``), not by base settings."""

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {"cancellation_thread_enabled": Field(bool, is_required=False, default_value=False)}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, cancellation_thread_enabled: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._cancellation_thread_enabled = cancellation_thread_enabled

    @property
    def should_start_background_run_thread(self) -> bool:
        return self._cancellation_thread_enabled

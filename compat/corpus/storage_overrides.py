"""Overrides around storage components: switching one off, and reading the base's protected slots.

``defs_state_storage`` only exists on dagster 1.11.8 and later. The check is made once, when the
class is defined: on a dagster without it the reading override is simply not defined (there is
nothing to override), while on a dagster with it the override reads ``self._defs_state_storage``
directly, so a base that stops assigning that slot breaks loudly instead of silently.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from dagster._core.instance import DagsterInstance, InstanceRef

#: True when the installed base class has a ``defs_state_storage`` member (dagster >= 1.11.8).
BASE_HAS_DEFS_STATE_STORAGE: bool = hasattr(DagsterInstance, "defs_state_storage")


class NoDefsStateInstance(DagsterInstance):
    """Pattern 2: ``DagsterCloudInstance.defs_state_storage`` returns ``None`` to switch the base
    component off.

    The override does not read any base state, so it is defined on every dagster version; on a
    dagster without the member it is a subclass-created name (pattern 11) that the base later
    started defining itself.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    @property
    def defs_state_storage(self) -> Optional[Any]:
        return None


class ProtectedReaderInstance(DagsterInstance):
    """Pattern 6: overrides and helpers that read protected base attributes directly.

    Models ``DagsterCloudAgentInstance.defs_state_storage`` (reads ``self._defs_state_storage``,
    defined only when the base has the member, see the module docstring) and dagster-cloud's
    habit of reaching into ``self._settings``, ``self._run_storage``, ``self._event_storage``,
    ``self._local_artifact_storage``, ``self._instance_type`` and ``self._ref`` instead of the
    public accessors. The base must keep these names and assign them in ``__init__`` before any
    override can run.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    if BASE_HAS_DEFS_STATE_STORAGE:

        @property
        def defs_state_storage(self) -> Optional[Any]:
            return self._defs_state_storage

    @property
    def run_storage(self):
        return self._run_storage

    @property
    def event_log_storage(self):
        return self._event_storage

    @property
    def root_directory(self) -> str:
        return self._local_artifact_storage.base_dir

    def get_settings(self, settings_key: str) -> Any:
        # same answer as the base, but read straight from the protected mapping
        if self._settings and settings_key in self._settings:
            return self._settings[settings_key]
        return {}

    def protected_summary(self) -> Mapping[str, Any]:
        """What the subclass sees of the base's protected state (JSON-friendly)."""
        return {
            "settings_keys": sorted(self._settings.keys()),
            "run_storage": type(self._run_storage).__name__,
            "event_storage": type(self._event_storage).__name__,
            "local_artifact_base_dir": self._local_artifact_storage.base_dir,
            "instance_type": self._instance_type.name,
            "has_ref": self._ref is not None,
            "schedule_storage": type(self._schedule_storage).__name__,
            "secrets_loader": type(self._secrets_loader).__name__,
        }

"""Construction, configuration and tear-down hooks: ``__init__``, ``config_schema``,
``config_defaults``, ``get`` and ``dispose`` overrides."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any, Mapping, Optional, Sequence

from dagster import Array, Field, Map, StringSource
from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.instance import DagsterInstance, InstanceRef
from dagster._serdes import ConfigurableClassData


class CustomInitInstance(DagsterInstance):
    """Pattern 9 and 14: ``DagsterCloudInstance.__init__`` and ``DagsterCloudInstance.config_schema``.

    ``__init__(self, *args, <required kw-only>, <optional kw-only...>, **kwargs)`` calls
    ``super().__init__(*args, **kwargs)`` first and sets its own state after. ``legacy_api_url``
    is accepted and dropped. Whatever else the factory passes (``defs_state_storage`` appears
    only on dagster >= 1.11.8) is forwarded untouched; the names forwarded are kept in
    ``forwarded_kwarg_names`` so a caller can see which keyword arguments a given dagster passes.

    ``config_schema()`` returns only the extra keys: a required key with no default
    (``deployment_name``), an ``Array`` and a ``Map`` field, and defaulted scalars.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {
            "deployment_name": Field(StringSource, is_required=True),
            "agent_token": Field(StringSource, is_required=False),
            "agent_labels": Field(Array(str), is_required=False, default_value=[]),
            "deployment_tags": Field(Map(str, str), is_required=False, default_value={}),
            "request_timeout": Field(int, is_required=False, default_value=60),
            "legacy_api_url": Field(str, is_required=False),
        }

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(
        self,
        *args: Any,
        deployment_name: str,
        agent_token: Optional[str] = None,
        agent_labels: Optional[Sequence[str]] = None,
        deployment_tags: Optional[Mapping[str, str]] = None,
        request_timeout: int = 60,
        **kwargs: Any,
    ):
        kwargs.pop("legacy_api_url", None)  # accepted for old configs, no longer used
        forwarded = sorted(kwargs)
        super().__init__(*args, **kwargs)
        self._deployment_name = deployment_name
        self._agent_token = agent_token
        self._agent_labels = list(agent_labels or [])
        self._deployment_tags = dict(deployment_tags or {})
        self._request_timeout = request_timeout
        self.forwarded_kwarg_names = forwarded

    @property
    def deployment_name(self) -> str:
        return self._deployment_name

    @property
    def cloud_config(self) -> Mapping[str, Any]:
        return {
            "deployment_name": self._deployment_name,
            "agent_token": self._agent_token,
            "agent_labels": list(self._agent_labels),
            "deployment_tags": dict(self._deployment_tags),
            "request_timeout": self._request_timeout,
        }


class DisposingInstance(DagsterInstance):
    """Pattern 12: ``DagsterCloudInstance.dispose`` calls ``super().dispose()`` and then releases
    the subclass's own resources (dagster-cloud closes its API session; here a local sqlite
    cache connection). Reached from ``__exit__``."""

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._local_cache = sqlite3.connect(":memory:", check_same_thread=False)
        self._local_cache.execute("CREATE TABLE cache (key TEXT PRIMARY KEY, value TEXT)")
        self.dispose_calls = 0
        self.resources_released = False

    def cache_put(self, key: str, value: str) -> None:
        self._local_cache.execute("INSERT OR REPLACE INTO cache VALUES (?, ?)", (key, value))

    def cache_get(self, key: str) -> Optional[str]:
        row = self._local_cache.execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def dispose(self) -> None:
        self.dispose_calls += 1
        super().dispose()
        self._local_cache.close()
        self.resources_released = True


class GetNarrowingInstance(DagsterInstance):
    """Pattern 13: ``DagsterCloudInstance.get`` is a staticmethod overriding the base staticmethod,
    calling ``DagsterInstance.get()`` by name and narrowing the return type."""

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    @staticmethod
    def get() -> "GetNarrowingInstance":  # type: ignore[override]
        instance = DagsterInstance.get()
        if not isinstance(instance, GetNarrowingInstance):
            raise DagsterInvariantViolationError(
                "The instance configured in DAGSTER_HOME is a "
                f"{type(instance).__name__}, expected a GetNarrowingInstance"
            )
        return instance


def _class_data(module: str, cls: str, config: Mapping[str, Any]) -> ConfigurableClassData:
    # JSON is valid YAML: no yaml import needed to build a component's config text
    return ConfigurableClassData(module, cls, json.dumps(dict(config)))


class ConfigDefaultsInstance(DagsterInstance):
    """Pattern 15: ``DagsterCloudInstance.config_defaults(base_dir)`` starts from
    ``InstanceRef.config_defaults`` and mutates the dict to swap default components.

    dagster-cloud swaps in GraphQL storages, its compute log manager and its secrets loader;
    here the storages (and, where dagster has one, the defs-state storage) move to a
    ``corpus_storage`` sub-directory, compute logs are switched off and secrets come from a
    local dict-backed loader (``DEFAULT_SECRETS``). Only instances
    whose ref is built by ``InstanceRef.from_dir`` see these defaults.
    """

    STORAGE_SUBDIR = "corpus_storage"
    DEFAULT_SECRETS = {"": {"CORPUS_DEFAULT_SECRET": "from-config-defaults"}}

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        # mutated in place, as dagster-cloud does: the base returns a fresh (mutable) dict
        defaults = InstanceRef.config_defaults(base_dir)
        storage_dir = os.path.join(base_dir, ConfigDefaultsInstance.STORAGE_SUBDIR)
        defaults["storage"] = _class_data(
            "dagster._core.storage.sqlite_storage", "DagsterSqliteStorage", {"base_dir": storage_dir}
        )
        defaults["run_storage"] = _class_data(
            "dagster._core.storage.runs", "SqliteRunStorage",
            {"base_dir": os.path.join(storage_dir, "history")},
        )
        defaults["event_log_storage"] = _class_data(
            "dagster._core.storage.event_log", "SqliteEventLogStorage",
            {"base_dir": os.path.join(storage_dir, "history", "runs")},
        )
        defaults["schedule_storage"] = _class_data(
            "dagster._core.storage.schedules", "SqliteScheduleStorage",
            {"base_dir": os.path.join(storage_dir, "schedules")},
        )
        defaults["compute_logs"] = _class_data(
            "dagster._core.storage.noop_compute_log_manager", "NoOpComputeLogManager", {}
        )
        defaults["secrets"] = _class_data(
            "compat.corpus.components", "DictSecretsLoader",
            {"secrets": ConfigDefaultsInstance.DEFAULT_SECRETS},
        )
        # set unconditionally like the real subclass; dagster without a defs-state component
        # never reads the key
        defaults["defs_state_storage"] = _class_data(
            "dagster._core.storage.defs_state.blob_storage_state_storage", "UPathDefsStateStorage",
            {"base_path": os.path.join(storage_dir, "defs_state")},
        )
        return defaults

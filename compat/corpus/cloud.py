"""Composite models of dagster-cloud's two subclasses, with every pattern they combine.

The focused classes elsewhere in the corpus isolate one pattern each, so a failure names the
pattern. These two put the patterns together the way the real pair does (an intermediate with
its own ``__init__`` and hooks, and a leaf agent class on top), because interactions between
overrides (a hook called from base ``__init__`` that reads state set by a subclass
``__init__``, ``super()`` chains over two levels) only show up in combination. Remote calls are
replaced by local state throughout.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional, Sequence

from dagster import Array, Field, Map, StringSource
from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.instance import DagsterInstance, InstanceRef
from dagster._serdes import ConfigurableClassData

from compat.corpus.components import LocalStateRunLauncher

BASE_HAS_DEFS_STATE_STORAGE: bool = hasattr(DagsterInstance, "defs_state_storage")


class CloudLikeInstance(DagsterInstance):
    """Composite of ``DagsterCloudInstance``: patterns 1, 2, 3, 4, 9, 12, 13, 14, 15, 16 and 20.

    ``telemetry_enabled`` is ``False`` (1); ``defs_state_storage`` is ``None`` (2); the
    run-retry limits raise ``NotImplementedError`` while ``run_retries_enabled`` still reads
    settings (3); no daemons are required (4); ``__init__`` takes a required keyword-only
    ``deployment_name`` plus optional ones and forwards the rest after calling ``super()``
    first (9); ``dispose`` calls ``super()`` then closes the local API session (12); ``get()``
    narrows ``DagsterInstance.get()`` (13); ``config_schema`` adds required/Array/Map keys (14);
    ``config_defaults`` swaps compute logs and secrets (15); ``for_deployment`` rebuilds the
    instance for another deployment through the ref (16). Most of these members moved into
    mixins in the refactor (20).
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {
            "deployment_name": Field(StringSource, is_required=True),
            "agent_labels": Field(Array(str), is_required=False, default_value=[]),
            "deployment_settings": Field(Map(str, str), is_required=False, default_value={}),
        }

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        defaults = InstanceRef.config_defaults(base_dir)  # mutated in place, like the real one
        defaults["compute_logs"] = ConfigurableClassData(
            "dagster._core.storage.noop_compute_log_manager", "NoOpComputeLogManager", "{}"
        )
        defaults["secrets"] = ConfigurableClassData(
            "compat.corpus.components", "DictSecretsLoader", json.dumps({"secrets": {}})
        )
        return defaults

    def __init__(
        self,
        *args: Any,
        deployment_name: str,
        agent_labels: Optional[Sequence[str]] = None,
        deployment_settings: Optional[Mapping[str, str]] = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self._deployment_name = deployment_name
        self._agent_labels = list(agent_labels or [])
        # stands in for the GraphQL session dagster-cloud opens against its API
        self._cloud_api_session: Optional[dict[str, Any]] = {
            "deployment": deployment_name,
            "settings": dict(deployment_settings or {}),
        }

    @staticmethod
    def get() -> "CloudLikeInstance":  # type: ignore[override]
        instance = DagsterInstance.get()
        if not isinstance(instance, CloudLikeInstance):
            raise DagsterInvariantViolationError(
                f"DAGSTER_HOME configures a {type(instance).__name__}, not a CloudLikeInstance"
            )
        return instance

    @property
    def deployment_name(self) -> str:
        return self._deployment_name

    @property
    def cloud_api_session_open(self) -> bool:
        return self._cloud_api_session is not None

    @property
    def telemetry_enabled(self) -> bool:
        return False

    @property
    def defs_state_storage(self) -> Optional[Any]:
        return None

    @property
    def run_retries_max_retries(self) -> int:
        raise NotImplementedError("run retry limits are deployment settings")

    @property
    def run_retries_retry_on_asset_or_op_failure(self) -> bool:
        raise NotImplementedError("run retry behaviour is a deployment setting")

    def get_required_daemon_types(self) -> Sequence[str]:
        return []

    def for_deployment(self, deployment_name: str) -> "CloudLikeInstance":
        ref = self.get_ref()
        data = ref.custom_instance_class_data
        if data is None:
            raise DagsterInvariantViolationError("this instance's ref names no instance_class")
        config = {**data.config_dict, "deployment_name": deployment_name}
        new_ref = ref._replace(
            custom_instance_class_data=ConfigurableClassData(
                data.module_name, data.class_name, json.dumps(config)
            )
        )
        instance = DagsterInstance.from_ref(new_ref)
        if not isinstance(instance, CloudLikeInstance):
            raise DagsterInvariantViolationError(
                f"ref round trip rebuilt a {type(instance).__name__}, not a CloudLikeInstance"
            )
        return instance

    def dispose(self) -> None:
        super().dispose()
        self._cloud_api_session = None


class CloudLikeAgentInstance(CloudLikeInstance):
    """Composite of ``DagsterCloudAgentInstance(DagsterCloudInstance)``: patterns 5, 6, 7, 8,
    10, 14 and 17 on top of the intermediate's.

    ``run_launcher`` returns a launcher the subclass manages (5), which base ``__init__``
    already reaches during run-monitoring set-up, before this class's ``__init__`` body (10);
    ``defs_state_storage`` reads ``self._defs_state_storage`` directly where the base has it,
    skipping the intermediate's ``None`` override (6, 7); ``get_required_daemon_types`` calls
    ``DagsterInstance.get_required_daemon_types(self)`` by name, skipping the intermediate (7);
    ``should_start_background_run_thread`` comes from its own config (8); ``config_schema``
    extends the intermediate's (14); a user code launcher is built and registered with
    ``register_instance(self)`` (17).
    """

    _agent_run_launcher: Optional[LocalStateRunLauncher] = None
    _agent_init_done: bool = False

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {
            **CloudLikeInstance.config_schema(),
            "agent_queues": Field(Array(str), is_required=False, default_value=[]),
            "cancellation_thread_enabled": Field(bool, is_required=False, default_value=False),
        }

    def __init__(
        self,
        *args: Any,
        agent_queues: Optional[Sequence[str]] = None,
        cancellation_thread_enabled: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self._agent_queues = list(agent_queues or [])
        self._cancellation_thread_enabled = cancellation_thread_enabled
        self._user_code_launcher = LocalStateRunLauncher()
        self._user_code_launcher.register_instance(self)
        self._agent_init_done = True

    @property
    def agent_queues(self) -> Sequence[str]:
        return list(self._agent_queues)

    @property
    def user_code_launcher(self) -> LocalStateRunLauncher:
        return self._user_code_launcher

    @property
    def run_launcher(self) -> LocalStateRunLauncher:
        if self._agent_run_launcher is None:
            launcher = LocalStateRunLauncher(created_during_base_init=not self._agent_init_done)
            launcher.register_instance(self)
            self._agent_run_launcher = launcher
        return self._agent_run_launcher

    if BASE_HAS_DEFS_STATE_STORAGE:

        @property
        def defs_state_storage(self) -> Optional[Any]:
            return self._defs_state_storage

    def get_required_daemon_types(self) -> Sequence[str]:
        return DagsterInstance.get_required_daemon_types(self)

    @property
    def should_start_background_run_thread(self) -> bool:
        return self._cancellation_thread_enabled

    def dispose(self) -> None:
        super().dispose()
        self._user_code_launcher.dispose()
        if self._agent_run_launcher is not None:
            self._agent_run_launcher.dispose()

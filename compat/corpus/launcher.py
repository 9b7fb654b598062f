"""Components the subclass manages itself: a swapped-in run launcher, self-registered helpers."""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from dagster import Field, Map
from dagster._core.instance import DagsterInstance, InstanceRef

from compat.corpus.components import DictSecretsLoader, LocalStateRunLauncher


class OwnLauncherInstance(DagsterInstance):
    """Pattern 5 and 10: ``DagsterCloudAgentInstance.run_launcher`` replaces the lazily loaded
    base launcher with one the subclass manages, ignoring the base's ``_run_launcher`` slot.

    The launcher lives in ``_own_run_launcher``, whose class-level default is ``None``: base
    ``__init__`` reads ``self.run_launcher`` during its run-monitoring set-up (when
    ``run_monitoring.enabled`` and ``max_resume_run_attempts > 0``, both configured for this
    class), i.e. before this class's own ``__init__`` body runs, and the property must cope.
    ``created_during_base_init`` on the launcher records whether that early call happened.
    The override only works while every base path (launch, resume, run monitoring) goes
    through ``self.run_launcher``; the launcher records what reached it.
    """

    _own_run_launcher: Optional[LocalStateRunLauncher] = None
    _own_init_done: bool = False

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._own_init_done = True

    @property
    def run_launcher(self) -> LocalStateRunLauncher:
        if self._own_run_launcher is None:
            launcher = LocalStateRunLauncher(created_during_base_init=not self._own_init_done)
            launcher.register_instance(self)
            self._own_run_launcher = launcher
        return self._own_run_launcher

    def dispose(self) -> None:
        super().dispose()
        if self._own_run_launcher is not None:
            self._own_run_launcher.dispose()


class SelfRegisteringInstance(DagsterInstance):
    """Pattern 17: ``DagsterCloudAgentInstance`` builds components itself (its user code
    launcher, API clients) from its own config and registers them with
    ``register_instance(self)``.

    Here it builds a secrets loader and a "user code launcher" (a local-state run launcher)
    from the ``location_secrets`` config after ``super().__init__`` and registers both.
    ``inject_env_vars`` runs the base behaviour through ``super()`` and then applies the
    subclass's own secrets.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {
            "location_secrets": Field(Map(str, Map(str, str)), is_required=False, default_value={})
        }

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, location_secrets: Optional[Mapping[str, Mapping[str, str]]] = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._location_secrets_loader = DictSecretsLoader(location_secrets or {})
        self._location_secrets_loader.register_instance(self)
        self._user_code_launcher = LocalStateRunLauncher()
        self._user_code_launcher.register_instance(self)

    @property
    def location_secrets_loader(self) -> DictSecretsLoader:
        return self._location_secrets_loader

    @property
    def user_code_launcher(self) -> LocalStateRunLauncher:
        return self._user_code_launcher

    def inject_env_vars(self, location_name: Optional[str]) -> None:
        super().inject_env_vars(location_name)
        for key, value in self._location_secrets_loader.get_secrets_for_environment(
            location_name
        ).items():
            os.environ[key] = value

    def dispose(self) -> None:
        super().dispose()
        self._location_secrets_loader.dispose()
        self._user_code_launcher.dispose()

"""Subclass-created names the base must never start defining or assigning."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Mapping, Optional

from dagster._core.instance import DagsterInstance, InstanceRef

from compat.corpus.components import LocalStateRunLauncher


class PrivateStateInstance(DagsterInstance):
    """Pattern 11: dagster-cloud keeps private state and helpers on its instance under its own
    names. A base method that starts assigning one of these names (or a base member with the
    same name) silently clobbers the subclass's state.

    The remote deployment state dagster-cloud caches is an in-memory dict here. The class also
    wraps ``__enter__``/``__exit__`` so that its names exist both before and after entering;
    ``SUBCLASS_ATTRIBUTES`` and ``SUBCLASS_MEMBERS`` list the names it creates.
    """

    SUBCLASS_ATTRIBUTES = ("_cloud_private_state", "_cloud_api_calls", "_cloud_session_open")
    SUBCLASS_MEMBERS = ("cloud_record", "cloud_lookup", "cloud_state_size", "cloud_session_open")

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._cloud_private_state: dict[str, Any] = {}
        self._cloud_api_calls: list[str] = []
        self._cloud_session_open = False

    def cloud_record(self, key: str, value: Any) -> None:
        self._cloud_api_calls.append(f"record:{key}")
        self._cloud_private_state[key] = value

    def cloud_lookup(self, key: str) -> Optional[Any]:
        self._cloud_api_calls.append(f"lookup:{key}")
        return self._cloud_private_state.get(key)

    @property
    def cloud_state_size(self) -> int:
        return len(self._cloud_private_state)

    @property
    def cloud_session_open(self) -> bool:
        return self._cloud_session_open

    def __enter__(self):
        entered = super().__enter__()
        self._cloud_session_open = True
        return entered

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self._cloud_session_open = False


class ExitStackOwnerInstance(DagsterInstance):
    """Pattern 11 and 12 as ``DagsterCloudAgentInstance`` really does them: its ``__init__``
    creates ``self._exit_stack = ExitStack()``, ``user_code_launcher`` lazily enters its
    launcher into that stack, and ``dispose`` calls ``super().dispose()`` and then closes
    ``self._exit_stack``.

    ``_exit_stack`` is a name newer bases also assign (their ``__enter__`` creates one and
    their ``__exit__`` closes it), so under ``with instance:`` the base replaces the subclass's
    stack, and whatever the subclass entered before the ``with`` is never released. The class
    works on every version; what differs is what gets released, which is the point.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._exit_stack = ExitStack()
        self._user_code_launcher: Optional[LocalStateRunLauncher] = None

    @property
    def user_code_launcher(self) -> LocalStateRunLauncher:
        if self._user_code_launcher is None:
            launcher = LocalStateRunLauncher()
            launcher.register_instance(self)
            self._user_code_launcher = self._exit_stack.enter_context(launcher)
        return self._user_code_launcher

    def dispose(self) -> None:
        super().dispose()
        self._exit_stack.close()

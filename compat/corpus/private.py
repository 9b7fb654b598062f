"""Subclass-created names the base must never start defining or assigning."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from dagster._core.instance import DagsterInstance, InstanceRef


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

"""A two-level subclass chain: an intermediate base class and a leaf that skips it."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from dagster._core.instance import DagsterInstance, InstanceRef


class ChainIntermediateInstance(DagsterInstance):
    """Pattern 18 (and 19): ``DagsterCloudInstance`` as the base of ``DagsterCloudAgentInstance``.

    No ``__init__`` of its own: it is constructed with the plain base keyword arguments,
    including keywords the base does not know yet (the base accepts ``**_kwargs``). Like every
    subclass it inherits the ``Protocol``/``ABCMeta`` machinery of the base and must stay
    non-abstract. It turns telemetry and daemons off (patterns 1 and 4); the leaf below
    re-enables the daemons.
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

    def get_required_daemon_types(self) -> Sequence[str]:
        return []


class ChainLeafInstance(ChainIntermediateInstance):
    """Pattern 7: ``DagsterCloudAgentInstance`` overrides a member of its intermediate base and
    calls the ``DagsterInstance`` implementation by name, skipping the intermediate override
    without ``super()``. ``telemetry_enabled`` still comes from the intermediate."""

    def get_required_daemon_types(self) -> Sequence[str]:
        return DagsterInstance.get_required_daemon_types(self)

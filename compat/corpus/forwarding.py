"""Custom storages that record what the instance forwards to them, as dagster-cloud's see it.

dagster-cloud's ``GraphQL*Storage`` classes implement dagster's storage base classes and send
every call over an API: each argument the instance passes (``bucket_by``, a filter, a limit, a
cursor, ``ascending``, an event type) is part of their contract, even where dagster's own sqlite
storages ignore it (sqlite has no bucket queries, so a dropped ``bucket_by`` changes no result
there). The storages here are built the same way: subclasses of dagster's ``RunStorage``,
``EventLogStorage`` and ``ScheduleStorage`` that implement every method by handing the call to
the storage the instance was configured with (sqlite or in-memory), after noting the method and
its arguments; the compute log manager is wrapped the same way. The instance subclass wraps its storages in ``__init__`` (so it works built
directly and through ``instance_class:`` in a dagster.yaml) and keeps every noted call, in
order, in ``compat_forwarded``; the behaviour worker records those as the cell's forwarded calls.

Only the standard library and dagster are imported: the class runs in workers of every dagster
version the harness drives.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from dagster._core.instance import DagsterInstance, InstanceRef
from dagster._core.storage.compute_log_manager import ComputeLogManager
from dagster._core.storage.event_log.base import EventLogStorage
from dagster._core.storage.runs.base import RunStorage
from dagster._core.storage.schedules.base import ScheduleStorage

# the instance's own bookkeeping on its storages, not a forwarded call
_UNRECORDED = frozenset({"register_instance"})


# the file key dagster draws at random for each capture of a run's logs (eight lowercase letters)
_FILE_KEY = re.compile(r"^[a-z]{8}$")


def _file_keys_named(value: Any, seen: dict[str, str]) -> Any:
    """``value`` as noted: each random file key replaced by its rank of first appearance."""
    if isinstance(value, str) and _FILE_KEY.match(value):
        return seen.setdefault(value, f"<file-key-{len(seen) + 1}>")
    if isinstance(value, (list, tuple)):
        return type(value)(_file_keys_named(v, seen) for v in value)
    return value


def _forward(name: str):
    def method(self, *args: Any, **kwargs: Any) -> Any:
        if name not in _UNRECORDED:
            noted_args, noted_kwargs = args, kwargs
            if self._compat_role == "compute_log_manager":
                noted_args = _file_keys_named(args, self._compat_file_keys)
                noted_kwargs = {k: _file_keys_named(v, self._compat_file_keys) for k, v in kwargs.items()}
            self._compat_log.append((self._compat_role, name, noted_args, dict(sorted(noted_kwargs.items()))))
        return getattr(self._compat_inner, name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


def _forward_property(name: str) -> property:
    return property(lambda self: getattr(self._compat_inner, name))


def _wrapping(base: type) -> type:
    """A subclass of ``base`` (a storage base class) implementing each of its public methods,
    abstract or not, and its public properties by delegation to a wrapped storage."""
    ns: dict[str, Any] = {}
    for name, attr in inspect.getmembers(base):
        static = inspect.getattr_static(base, name)
        if name.startswith("_") and name not in base.__abstractmethods__:
            continue
        if isinstance(static, (classmethod, staticmethod)):
            continue
        if isinstance(static, property):
            ns[name] = _forward_property(name)
        elif inspect.isfunction(attr):
            ns[name] = _forward(name)

    def __init__(self, inner: Any, role: str, log: list) -> None:
        self._compat_inner, self._compat_role, self._compat_log = inner, role, log
        self._compat_file_keys: dict[str, str] = {}

    def register_instance(self, instance: Any) -> None:
        base.register_instance(self, instance)
        self._compat_inner.register_instance(instance)

    def __getattr__(self, name: str) -> Any:
        # what only the wrapped storage has (a sqlite connection, its folder) stays reachable
        if name.startswith("_compat_"):
            raise AttributeError(name)
        return getattr(self._compat_inner, name)

    ns.update(__init__=__init__, register_instance=register_instance, __getattr__=__getattr__,
              __module__=__name__, __doc__=f"A {base.__name__} that notes each call and hands it to the wrapped one.")
    return type(f"Forwarding{base.__name__}", (base,), ns)


ForwardingRunStorage = _wrapping(RunStorage)
ForwardingEventLogStorage = _wrapping(EventLogStorage)
# dagster-cloud's event log storage stores the partitions a planned run targets as one subset
# (sqlite's takes one planned event per partition): the instance plans such runs another way
ForwardingEventLogStorage.supports_partition_subset_in_asset_materialization_planned_events = property(
    lambda self: True)
ForwardingScheduleStorage = _wrapping(ScheduleStorage)
ForwardingComputeLogManager = _wrapping(ComputeLogManager)


class ForwardingStoragesInstance(DagsterInstance):
    """An instance whose run, event-log and schedule storages and compute log manager are custom
    ones, as dagster-cloud's are: each call the instance makes into them is noted with its arguments
    (``compat_forwarded``: role, method, positional and keyword arguments, in call order)
    before the configured storage answers it."""

    @classmethod
    def config_schema(cls) -> dict[str, Any]:  # no config of its own; the yaml route asks
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Any:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, run_storage: Any, event_storage: Any, schedule_storage: Any = None,
                 **kwargs: Any) -> None:
        self.compat_forwarded: list[tuple[str, str, tuple, dict]] = []
        log = self.compat_forwarded
        run_storage = ForwardingRunStorage(run_storage, "run_storage", log)
        event_storage = ForwardingEventLogStorage(event_storage, "event_log_storage", log)
        if schedule_storage is not None:
            schedule_storage = ForwardingScheduleStorage(schedule_storage, "schedule_storage", log)
        if kwargs.get("compute_log_manager") is not None:  # None: built from the ref on first use
            kwargs["compute_log_manager"] = ForwardingComputeLogManager(kwargs["compute_log_manager"],
                                                                        "compute_log_manager", log)
        super().__init__(*args, run_storage=run_storage, event_storage=event_storage,
                         schedule_storage=schedule_storage, **kwargs)

"""The scenario registry and what a scenario runs with: ``Ctx`` (one step at a time, each value,
exception, warning, identity and attribute change recorded as data), ``SCENARIOS`` and the
``@scenario`` decorator the domain modules register through.

Imports only the standard library and the trace encoder: a worker imports this before dagster.
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from compat.model.trace import exception_data, to_jsonable, warnings_data


STORAGES = ("memory", "sqlite")



FIXED_TS = 1_700_000_000.0  # a fixed instant for timestamps that scenarios supply themselves



def _member_called(fn: Callable[..., Any], owner: Any) -> str | None:
    """The instance member a step calls: a bound method of the instance (or its class), or the
    first member of the instance's class that a lambda names."""
    if owner is None:
        return None
    bound = getattr(fn, "__self__", None)
    if bound is owner or bound is type(owner):
        return getattr(fn, "__name__", None)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return next((n for n in code.co_names if not n.startswith("__") and hasattr(type(owner), n)), None)



@dataclass
class Ctx:
    """What a scenario gets besides the instance: its temp dir and a result collector.

    Per step it keeps the value (or exception) in ``results``, the warnings emitted in
    ``warnings``, and in ``identity`` whether the value is the same object an earlier step
    returned (``same_as``) or an object ``owner`` (the instance) holds in an attribute
    (``internal``): both are what a caller that mutates a returned value observes."""

    tmpdir: str
    storage: str
    results: dict[str, Any] = field(default_factory=dict)
    dynamic_partition_names: set[str] = field(default_factory=set)
    owner: Any = None
    warnings: dict[str, list[list[str]]] = field(default_factory=dict)
    identity: dict[str, dict[str, Any]] = field(default_factory=dict)
    # per step, the instance attributes it set or deleted (a lazily set one shows where it is set)
    attributes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # per step whose label does not start with it, the instance member it calls (for titles:
    # "`get_required_daemon_types` (step `required`) returns a different value")
    calls: dict[str, str] = field(default_factory=dict)
    # every step's value, kept alive so that no later value reuses its id
    kept: list[tuple[str, Any]] = field(default_factory=list, repr=False)

    def step(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one step; record its value (or its exception, as data) under ``label``."""
        failed = False
        member = _member_called(fn, self.owner)
        if member is not None and member != label.partition(":")[0]:
            self.calls[label] = member
        before = _attribute_names(self.owner)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - exceptions are part of the behaviour
                self.results[label] = {"__exception__": exception_data(exc, exact=True)}
                failed = True
        emitted = warnings_data(caught)
        if emitted:
            self.warnings[label] = emitted
        after = _attribute_names(self.owner)
        if after != before:
            change = {"added": sorted(after - before), "removed": sorted(before - after)}
            self.attributes[label] = {k: v for k, v in change.items() if v}
        if failed:
            return None
        self.results[label] = to_jsonable(value, exact=True)
        self._note_identity(label, value)
        return value

    def note_attributes_at_start(self) -> None:
        """The attributes the instance has before the first step (under ``ATTRIBUTES_AT_START``):
        what tells an attribute now set later from one that is new."""
        self.attributes[ATTRIBUTES_AT_START] = {"present": sorted(_attribute_names(self.owner))}

    def put(self, label: str, value: Any) -> None:
        self.results[label] = to_jsonable(value, exact=True)

    def _note_identity(self, label: str, value: Any) -> None:
        if value is None or isinstance(value, _VALUES):
            return
        same = next((earlier for earlier, kept in self.kept if kept is value), None)
        if same is not None:
            self.identity[label] = {"same_as": same}
        elif self.owner is not None and _held_by(self.owner, value):
            self.identity[label] = {"internal": True}
        self.kept.append((label, value))



# values whose identity a caller cannot use (immutable, or singletons by design)
_VALUES = (bool, int, float, complex, str, bytes, enum.Enum, type, tuple, frozenset)



ATTRIBUTES_AT_START = "(start)"



def _attribute_names(owner: Any) -> set[str]:
    """The instance attributes a subclass can read (name-mangled ones are the class's own)."""
    if owner is None:
        return set()
    return {name for name in vars(owner) if "__" not in name}



def _held_by(owner: Any, value: Any) -> bool:
    """Whether ``value`` is an object ``owner`` holds: one of its attributes, or a value in a
    mapping or list one of its attributes is."""
    for attr in vars(owner).values():
        if attr is value:
            return True
        if isinstance(attr, dict) and any(v is value for v in attr.values()):
            return True
        if isinstance(attr, list) and any(v is value for v in attr):
            return True
    return False



@dataclass(frozen=True)
class Scenario:
    name: str
    domain: str
    fn: Callable[[Any, Ctx], Any]
    storages: tuple[str, ...] = STORAGES
    settings: dict[str, Any] | None = None  # instance settings the scenario needs
    doc: str = ""



SCENARIOS: dict[str, Scenario] = {}



DOMAINS = (
    "storage",
    "runs",
    "assets",
    "events",
    "schedules",
    "backfills",
    "partitions",
    "configuration",
    "monitoring",
    "snapshots",
    "execution",
)



def scenario(name: str, domain: str, *, storages: tuple[str, ...] = STORAGES, settings: dict | None = None):
    assert domain in DOMAINS, domain

    def register(fn: Callable[[Any, Ctx], Any]) -> Callable[[Any, Ctx], Any]:
        assert name not in SCENARIOS, name
        SCENARIOS[name] = Scenario(name, domain, fn, storages, settings, (fn.__doc__ or "").strip())
        return fn

    return register



def names(selected: list[str] | None = None) -> list[str]:
    """Scenario names, checked against the registry; all of them when none are selected."""
    if not selected:
        return sorted(SCENARIOS)
    unknown = [n for n in selected if n not in SCENARIOS]
    if unknown:
        raise KeyError(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(sorted(SCENARIOS))}")
    return list(selected)

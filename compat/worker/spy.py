"""Spy subclasses: record every dispatch to an overridable member of a target class.

``spy_class(Target)`` builds a subclass of ``Target`` that overrides every public and
protected method, classmethod and property found over the MRO at runtime. Each override
records the dispatch (member, access kind, caller function and the class defining it, and the
shape of the arguments) and then delegates to ``super()``, so the next class in the MRO (the
target, or a corpus subclass when spying on top of one) does the real work.

This module imports only the standard library: it runs inside any dagster version's worker.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import types
from typing import Any

# Members never wrapped: construction, typing/ABC machinery, and the spy's own plumbing.
SKIP = frozenset(
    {
        "_is_protocol",
        "_is_runtime_protocol",
        "__subclasshook__",
        "_abc_impl",
        "__init__",
        "__new__",
        "__init_subclass__",
        "__class_getitem__",
    }
)
# Classes whose members are machinery, not part of the target's contract.
SKIP_OWNERS = ("builtins", "typing", "typing_extensions", "abc")

MAX_EVENTS = 20000


class Recorder:
    """Collects dispatch events from the thread that activated it (one cell at a time)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.active = False
        self.thread: int | None = None
        self.dropped = 0
        self.other_threads = 0
        self._suspended = 0

    def start(self) -> None:
        self.events = []
        self.dropped = 0
        self.other_threads = 0
        self._suspended = 0
        self.thread = threading.get_ident()
        self.active = True

    def stop(self) -> list[dict[str, Any]]:
        self.active = False
        return self.events

    def suspended(self):
        """Context manager: dispatches inside are not recorded (harness bookkeeping)."""
        rec = self

        class _Suspend:
            def __enter__(self_inner):
                rec._suspended += 1

            def __exit__(self_inner, *exc):
                rec._suspended -= 1

        return _Suspend()

    def note(self, member: str, kind: str, frame: types.FrameType | None, args: tuple, kwargs: dict) -> None:
        if not self.active or self._suspended:
            return
        if threading.get_ident() != self.thread:
            self.other_threads += 1
            return
        if len(self.events) >= MAX_EVENTS:
            self.dropped += 1
            return
        self.events.append(
            {
                "member": member,
                "kind": kind,
                **caller_of(frame),
                "args": [type_name(a) for a in args],
                "kwargs": {k: type_name(v) for k, v in sorted(kwargs.items())},
            }
        )


RECORDER = Recorder()


def type_name(value: Any) -> str:
    return type(value).__name__


def caller_of(frame: types.FrameType | None) -> dict[str, str]:
    """The function that made the dispatch and the class (or module) that defines it."""
    if frame is None:
        return {"caller": "?", "caller_class": "?", "via": "external"}
    code = frame.f_code
    qualname = getattr(code, "co_qualname", code.co_name)
    owner = qualname.rsplit(".", 1)[0] if "." in qualname else frame.f_globals.get("__name__", "?")
    via = "external"
    if code.co_argcount and code.co_varnames and code.co_varnames[0] in ("self", "cls"):
        first = frame.f_locals.get(code.co_varnames[0])
        if getattr(type(first), "__compat_spy__", False) or (
            isinstance(first, type) and getattr(first, "__compat_spy__", False)
        ):
            via = "self"
    return {"caller": code.co_name, "caller_class": owner, "via": via}


def _members(target: type) -> list[tuple[str, Any, type]]:
    """(name, raw attribute, defining class) for each wrappable member, first in MRO wins."""
    seen: set[str] = set()
    found: list[tuple[str, Any, type]] = []
    for klass in target.__mro__:
        if klass.__module__ in SKIP_OWNERS or klass is object:
            continue
        for name, attr in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            if name in SKIP or (name.startswith("__") and name.endswith("__")):
                continue
            if name.startswith("__"):  # name-mangled private: not reachable by subclasses
                continue
            if isinstance(attr, (property, classmethod, staticmethod)) or inspect.isfunction(attr):
                found.append((name, attr, klass))
    return sorted(found, key=lambda item: item[0])


def _next_attr(obj_type: type, spy: type, name: str) -> Any:
    mro = obj_type.__mro__
    start = mro.index(spy) + 1
    for klass in mro[start:]:
        if name in vars(klass):
            return vars(klass)[name]
    raise AttributeError(name)


def _wrap_method(name: str, func: Any, box: list) -> Any:
    @functools.wraps(func)
    def method(self, *args, **kwargs):
        RECORDER.note(name, "call", sys._getframe(1), args, kwargs)
        return getattr(super(box[0], self), name)(*args, **kwargs)

    return method


def _wrap_classmethod(name: str, func: Any, box: list) -> Any:
    @functools.wraps(func)
    def method(cls, *args, **kwargs):
        RECORDER.note(name, "classcall", sys._getframe(1), args, kwargs)
        return getattr(super(box[0], cls), name)(*args, **kwargs)

    return classmethod(method)


def _wrap_staticmethod(name: str, func: Any, box: list) -> Any:
    @functools.wraps(func)
    def method(*args, **kwargs):
        RECORDER.note(name, "staticcall", sys._getframe(1), args, kwargs)
        return _next_attr(box[0], box[0], name).__func__(*args, **kwargs)

    return staticmethod(method)


def _wrap_property(name: str, prop: property, box: list) -> property:
    def fget(self):
        RECORDER.note(name, "get", sys._getframe(1), (), {})
        return getattr(super(box[0], self), name)

    fset = fdel = None
    if prop.fset is not None:

        def fset(self, value):
            RECORDER.note(name, "set", sys._getframe(1), (value,), {})
            _next_attr(type(self), box[0], name).__set__(self, value)

    if prop.fdel is not None:

        def fdel(self):
            RECORDER.note(name, "del", sys._getframe(1), (), {})
            _next_attr(type(self), box[0], name).__delete__(self)

    return property(fget, fset, fdel, prop.__doc__)


_CACHE: dict[type, type] = {}


def spy_class(target: type) -> type:
    """A recording subclass of ``target`` (cached per target)."""
    if getattr(target, "__compat_spy__", False):
        return target
    if target in _CACHE:
        return _CACHE[target]
    box: list = []
    ns: dict[str, Any] = {}
    wrapped: list[str] = []
    for name, attr, _owner in _members(target):
        try:
            if isinstance(attr, property):
                ns[name] = _wrap_property(name, attr, box)
            elif isinstance(attr, classmethod):
                ns[name] = _wrap_classmethod(name, attr.__func__, box)
            elif isinstance(attr, staticmethod):
                ns[name] = _wrap_staticmethod(name, attr.__func__, box)
            else:
                ns[name] = _wrap_method(name, attr, box)
            wrapped.append(name)
        except Exception:  # noqa: BLE001 - cannot be wrapped safely; leave the base member
            continue
    ns["__compat_spy__"] = True
    ns["__compat_wrapped__"] = tuple(wrapped)
    ns["__module__"] = __name__
    name = f"Spy{target.__name__}"
    while name in globals():  # two targets with the same class name get distinct spies
        name += "_"
    cls = types.new_class(name, (target,), {}, lambda body: body.update(ns))
    box.append(cls)
    _CACHE[target] = cls
    # Registered by name so that dagster's class loader (instance_class in yaml) can find it.
    globals()[name] = cls
    return cls


def attach(instance: Any) -> Any:
    """Turn an already constructed instance into a spy of its own class (state untouched)."""
    instance.__class__ = spy_class(type(instance))
    return instance

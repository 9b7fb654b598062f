"""Which parameters of the target's members the scenarios pass, and with what (``compat coverage``).

Line coverage says a member ran; it does not say whether any call gave ``bucket_by``, ``of_type``
or ``ascending`` a value other than its default. A base that drops or ignores such an argument
changes nothing a scenario sees unless some call passes it, so the parameter figure of
``compat coverage`` is the share of parameters with a default that some call of the member (from
a scenario, from dagster itself, or through ``super()`` from a subclass) gave another value.

In the worker (when ``PARAMS_ENV`` names a file prefix), a profile function looks at every call of
a function whose code is one of the target's members, and notes per parameter whether it got a
value other than its default (``other``) and whether it got ``None`` (``none``). ``*args`` and
``**kwargs`` count as ``other`` when not empty. The worker writes what it saw to
``<prefix>.<pid>.json`` when it ends; :func:`combine` joins the files of every worker.

Imports: the standard library only (the target is looked up in ``sys.modules`` once imported).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

PARAMS_ENV = "COMPAT_COVERAGE_PARAMS"  # the file prefix the worker writes to
TARGET_ENV = "COMPAT_COVERAGE_TARGET"  # module:Class of the target
_VAR = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def member_functions(cls: type) -> dict[str, Any]:
    """Per public and protected member name, the plain function a subclass reaches (the first
    definition along the MRO): methods, classmethods and staticmethods; properties have no
    parameters a caller passes."""
    out: dict[str, Any] = {}
    for name in sorted({n for k in cls.__mro__ for n in vars(k)}):
        if name.startswith("__"):
            continue
        member = next(vars(k)[name] for k in cls.__mro__ if name in vars(k))
        fn = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        fn = inspect.unwrap(fn) if callable(fn) else None
        if fn is not None and hasattr(fn, "__code__"):
            out[name] = fn
    return out


def parameters(fn: Any) -> list[dict[str, Any]]:
    """The parameters of ``fn`` a caller can pass a non-default value to: those with a default,
    and ``*args``/``**kwargs``; with whether ``None`` is a value the annotation allows."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    out = []
    for p in list(sig.parameters.values()):
        if p.kind not in _VAR and p.default is inspect.Parameter.empty:
            continue
        note = p.annotation if isinstance(p.annotation, str) else repr(p.annotation)
        none_allowed = p.kind not in _VAR and (p.default is None or "None" in note or "Optional" in note)
        out.append({"name": p.name, "variadic": p.kind in _VAR, "none_allowed": none_allowed})
    return out


class ParamRecorder:
    """The profile function: per member and parameter, the kinds of value its calls passed."""

    def __init__(self, target: str) -> None:
        self.module, _, self.class_name = target.partition(":")
        self._codes: dict[Any, tuple[str, list[tuple[str, Any, int]]]] | None = None
        self.seen: dict[str, dict[str, set[str]]] = {}

    def _index(self) -> bool:
        cls = getattr(sys.modules.get(self.module), self.class_name, None)
        if not isinstance(cls, type):
            return False
        codes = {}
        for name, fn in member_functions(cls).items():
            try:
                sig = inspect.signature(fn)
            except (TypeError, ValueError):
                continue
            watched = [(p.name, p.default, p.kind) for p in sig.parameters.values()
                       if p.kind in _VAR or p.default is not inspect.Parameter.empty]
            if watched:
                codes[fn.__code__] = (name, watched)
        self._codes = codes
        return True

    def __call__(self, frame, event, arg):  # noqa: ARG002 - sys.setprofile's signature
        if event != "call":
            return
        if self._codes is None and not self._index():
            return
        hit = self._codes.get(frame.f_code)
        if hit is None:
            return
        name, watched = hit
        seen = self.seen.setdefault(name, {})
        local = frame.f_locals
        for param, default, kind in watched:
            if param not in local:
                continue
            value = local[param]
            tags = seen.setdefault(param, set())
            if kind in _VAR:
                if value:
                    tags.add("other")
                continue
            if value is None:
                tags.add("none")
            if value is not default and not _equal(value, default):
                tags.add("other")

    def start(self) -> None:
        sys.setprofile(self)

    def save(self, prefix: str) -> None:
        sys.setprofile(None)
        data = {m: {p: sorted(t) for p, t in ps.items()} for m, ps in sorted(self.seen.items())}
        path = f"{prefix}.{os.getpid()}.json"
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, sort_keys=True)
        os.replace(tmp, path)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - a value whose == raises is not the default
        return False


def start_from_environ() -> ParamRecorder | None:
    if not os.environ.get(PARAMS_ENV):
        return None
    recorder = ParamRecorder(os.environ.get(TARGET_ENV) or "dagster._core.instance:DagsterInstance")
    recorder.start()
    return recorder


def combine(prefix: str) -> dict[str, dict[str, set[str]]]:
    """What every worker that wrote under ``prefix`` saw, joined. Each file is checked to be a
    mapping of member to parameter to a list of tags."""
    out: dict[str, dict[str, set[str]]] = {}
    folder, stem = Path(prefix).parent, Path(prefix).name
    for path in sorted(folder.glob(f"{stem}.*.json")):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict) or not all(
                isinstance(ps, dict) and all(isinstance(t, list) and set(t) <= {"none", "other"} for t in ps.values())
                for ps in data.values()):
            raise ValueError(f"{path.name}: not a parameter record (member -> parameter -> tags)")
        for member, ps in data.items():
            for param, tags in ps.items():
                out.setdefault(member, {}).setdefault(param, set()).update(tags)
    return out

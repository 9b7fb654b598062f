"""The surface rule machinery: a rule is a function over a :class:`DiffContext` plus its metadata.

A rule yields :class:`Hit` objects (member, message, old/new text); the engine turns them into
:class:`~compat.model.findings.Finding` objects carrying the rule's id, severity and audience, so the
metadata that the documentation shows is the metadata the findings carry. ``@rule`` registers
the function and its metadata in the one registry every layer shares
(:mod:`compat.rules.registry`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator

from compat.model.surface import (
    CACHED_PROPERTY,
    CLASS_ATTRIBUTE,
    CLASSMETHOD,
    DUNDER,
    KEYWORD_ONLY,
    METHOD,
    POSITIONAL_ONLY,
    POSITIONAL_OR_KEYWORD,
    PROPERTY,
    PROTECTED,
    PUBLIC,
    STATICMETHOD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    Member,
    Parameter,
    Surface,
)
from compat.rules.registry import SURFACE, register, source_fixture

# members whose body runs code (they can reference self.<hook>)
BODY_KINDS = (METHOD, PROPERTY, CACHED_PROPERTY, CLASSMETHOD, STATICMETHOD)
# kinds whose first positional parameter is the bound object (self / cls)
BOUND_KINDS = (METHOD, PROPERTY, CACHED_PROPERTY, CLASSMETHOD)
BOUND_NAMES = ("self", "cls", "mcs", "metacls")
POSITIONAL = (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD)
KEYWORDABLE = (POSITIONAL_OR_KEYWORD, KEYWORD_ONLY)
VARIADIC = (VAR_POSITIONAL, VAR_KEYWORD)


@dataclass
class Hit:
    """What a surface or profile rule reports; the engine adds the rule's id, severity and
    audience (:meth:`compat.rules.registry.Rule.run`)."""

    member: str
    message: str
    old: str | None = None
    new: str | None = None
    old_location: str | None = None
    new_location: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    audience: str | None = None  # only for rules whose doc says the audience varies
    severity: str | None = None  # only for rules whose doc says the severity varies


def rule(
    *,
    id: str,
    severity: str,
    audience: str,
    family: str,
    summary: str,
    explanation: str,
    why_subclasses: str,
    fix: str,
    example_old: str,
    example_new: str,
    audience_note: str = "",
    severity_note: str = "",
    cause: str = "",
    near_old: str | None = None,
    near_new: str | None = None,
    near_about: str = "",
) -> Callable[[Callable[["DiffContext"], Iterable[Hit]]], Callable[["DiffContext"], Iterable[Hit]]]:
    """Register a surface rule; its documented example is its fixture. The decorated function
    stays a plain, directly callable function. ``near_old``/``near_new`` (with ``near_about``, what
    the close change is) are its near miss, kept with the rule."""

    def register_check(fn):
        register(
            id=id,
            severity=severity,
            audience=audience,
            layer=SURFACE,
            family=family,
            summary=summary,
            explanation=explanation,
            why_subclasses=why_subclasses,
            fix=fix,
            fixture=source_fixture(example_old, example_new),
            near_miss=source_fixture(near_old, near_new, about=near_about) if near_old is not None and near_new is not None else None,
            check=fn,
            audience_note=audience_note,
            severity_note=severity_note,
            cause=cause,
        )
        fn.rule_id = id
        return fn

    return register_check


# --------------------------------------------------------------------------- helpers


def short(path: str | None) -> str:
    """Last component of a dotted path."""
    if not path:
        return ""
    return path.replace(":", ".").rsplit(".", 1)[-1]


def norm_expr(text: str | None) -> str | None:
    """A spelling-insensitive form of a source expression (quotes, spacing, parentheses)."""
    if text is None:
        return None
    try:
        return ast.dump(ast.parse(text.strip(), mode="eval"))
    except SyntaxError:
        return " ".join(text.split())


def overridable(member: Member | None) -> bool:
    """A subclass can override it by defining the same name (not a name-mangled private)."""
    return member is not None and member.visibility in (PUBLIC, PROTECTED, DUNDER)


def bound_params(member: Member) -> list[Parameter]:
    """Parameters a caller passes: the signature without the bound self / cls."""
    if member.signature is None:
        return []
    params = list(member.signature.parameters)
    if (
        member.kind in BOUND_KINDS
        and params
        and params[0].kind in POSITIONAL
        and params[0].name in BOUND_NAMES
    ):
        params = params[1:]
    return params


def visibility_label(member: Member) -> str:
    return {PUBLIC: "public", PROTECTED: "protected", DUNDER: "dunder"}.get(member.visibility, "private")


def kind_label(kind: str) -> str:
    return {
        METHOD: "method",
        PROPERTY: "property",
        CACHED_PROPERTY: "cached_property",
        CLASSMETHOD: "classmethod",
        STATICMETHOD: "staticmethod",
        CLASS_ATTRIBUTE: "class attribute",
    }.get(kind, kind)


class DiffContext:
    """Two surfaces and the shared derived facts every rule needs (computed once)."""

    def __init__(self, old: Surface, new: Surface):
        self.old = old
        self.new = new

    # ---- members
    @cached_property
    def common(self) -> list[tuple[str, Member, Member]]:
        names = sorted(set(self.old.members) & set(self.new.members))
        return [(n, self.old.members[n], self.new.members[n]) for n in names]

    @cached_property
    def removed(self) -> list[Member]:
        return [self.old.members[n] for n in sorted(set(self.old.members) - set(self.new.members))]

    @cached_property
    def added(self) -> list[Member]:
        return [self.new.members[n] for n in sorted(set(self.new.members) - set(self.old.members))]

    def hit(self, member: str, message: str, old: Member | None = None, new: Member | None = None, **kw) -> Hit:
        """A hit for a member with both renderings and locations filled in."""
        kw.setdefault("old", old.render() if old is not None else None)
        kw.setdefault("new", new.render() if new is not None else None)
        kw.setdefault("old_location", old.location if old is not None else None)
        kw.setdefault("new_location", new.location if new is not None else None)
        return Hit(member=member, message=message, **kw)

    # ---- classes: the same class across versions, even when it moved
    @cached_property
    def class_map(self) -> dict[str, str]:
        """old class path -> new class path for classes that moved (target and its ancestors)."""
        mapping = {self.old.cls.path: self.new.cls.path}
        new_mro = set(self.new.cls.mro)
        old_mro = set(self.old.cls.mro)
        by_short: dict[str, list[str]] = {}
        for path in self.new.cls.mro:
            if path not in old_mro:
                by_short.setdefault(short(path), []).append(path)
        for path in self.old.cls.mro:
            if path in new_mro or path in mapping:
                continue
            candidates = by_short.get(short(path), [])
            if len(candidates) == 1:
                mapping[path] = candidates[0]
        return mapping

    def same_class(self, old_path: str, new_path: str) -> bool:
        return old_path == new_path or self.class_map.get(old_path) == new_path

    def in_new_mro(self, old_path: str) -> bool:
        return old_path in self.new.cls.mro or self.class_map.get(old_path) in self.new.cls.mro

    def in_old_mro(self, new_path: str) -> bool:
        if new_path in self.old.cls.mro:
            return True
        return any(v == new_path for k, v in self.class_map.items() if k in self.old.cls.mro)

    # ---- the self-reference graph (the static half of the hook contract)
    def reach(self, surface: Surface, start: str) -> set[str]:
        """Every self.<name> that running ``start`` references, following self-calls and
        property reads into the class's own members (excluding ``start`` itself)."""
        cache = self._reach_cache.setdefault(id(surface), {})
        if start in cache:
            return cache[start]
        seen: set[str] = set()
        stack = [start]
        visited = {start}
        while stack:
            name = stack.pop()
            member = surface.members.get(name)
            if member is None or member.kind not in BODY_KINDS:
                continue
            for ref in sorted(set(member.self_refs) | set(member.self_calls)):
                seen.add(ref)
                if ref not in visited:
                    visited.add(ref)
                    stack.append(ref)
        seen.discard(start)
        cache[start] = seen
        return seen

    def assigned_at_init(self, surface: Surface) -> set[str]:
        """Instance attributes assigned by __init__ itself or a method it reaches through self."""
        names: set[str] = set()
        for attr in surface.instance_attributes.values():
            if attr.in_init:
                names.add(attr.name)
        if "__init__" in surface.members:
            for name in {"__init__"} | self.reach(surface, "__init__"):
                member = surface.members.get(name)
                if member is not None:
                    names.update(member.assigns)
        return names

    @cached_property
    def _reach_cache(self) -> dict[int, dict[str, set[str]]]:
        return {}


def iter_sorted(items: Iterable[Any]) -> Iterator[Any]:
    return iter(sorted(items))


# --------------------------------------------------------------------------- examples

EXAMPLE_PACKAGE = "pkg"
EXAMPLE_TARGET = "pkg.mod:Instance"


def example_files(text: str) -> dict[str, str]:
    """The toy package an example describes: ``# pkg/<file>.py`` lines start a new file; text
    before any such line is ``pkg/mod.py``. The target is always ``pkg.mod:Instance``."""
    files: dict[str, list[str]] = {}
    current = "pkg/mod.py"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(f"# {EXAMPLE_PACKAGE}/") and stripped.endswith(".py"):
            current = stripped[2:]
            files.setdefault(current, [])
            continue
        files.setdefault(current, []).append(line)
    out = {path: "\n".join(lines).strip("\n") + "\n" for path, lines in files.items()}
    out.setdefault(f"{EXAMPLE_PACKAGE}/__init__.py", "")
    return dict(sorted(out.items()))

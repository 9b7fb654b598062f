"""Decorator changes: @public dropped, deprecation added, became abstract, other decorators."""

from __future__ import annotations

from compat.model.findings import BREAKING, BOTH, INFO, SUBCLASSES, WARNING
from compat.rules.base import DiffContext, rule


@rule(
    id="public-api-dropped",
    severity=BREAKING,
    audience=BOTH,
    family="decorators",
    summary="A member lost dagster's `@public` marker: it left the documented, supported API.",
    explanation=(
        "The member still exists today, but dagster no longer promises it: it may change or "
        "disappear without a deprecation cycle. Code depending on it is now on unsupported ground."
    ),
    why_subclasses="Overrides of a formerly public member lose the guarantee that the base keeps calling it.",
    fix="Keep @public, or deprecate the member explicitly before dropping it from the API.",
    example_old="""
        from dagster._annotations import public

        class Instance:
            @public
            def get_run_by_id(self, run_id): ...
    """,
    example_new="""
        class Instance:
            def get_run_by_id(self, run_id): ...
    """,
    near_old="""
        def public(f): return f
        class Instance:
            @public
            def f(self): ...
    """,
    near_new="""
        def public(f): return f
        class M:
            @public
            def f(self): ...
        class Instance(M): ...
    """,
    near_about="the member moved into a mixin with its `@public` marker: it is still documented API",
)
def public_api_dropped(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.public_api and not new.public_api:
            yield ctx.hit(name, f"{name!r} is no longer marked @public", old=old, new=new)


@rule(
    id="member-deprecated",
    severity=WARNING,
    audience=BOTH,
    family="decorators",
    summary="A member became deprecated.",
    explanation="Callers get deprecation warnings now and will break when it is removed.",
    why_subclasses="Overrides of a deprecated member will stop being called once the base stops using it: plan the migration now.",
    fix="Name the replacement in the deprecation message and keep the member through the deprecation cycle.",
    example_old="""
        class Instance:
            def get_addresses_for_step_output_versions(self, params): ...
    """,
    example_new="""
        from dagster._annotations import deprecated

        class Instance:
            @deprecated(breaking_version="2.0")
            def get_addresses_for_step_output_versions(self, params): ...
    """,
    near_old="""
        def deprecated(**k): return lambda f: f
        class Instance:
            @deprecated(breaking_version='2.0')
            def f(self): ...
    """,
    near_new="""
        def deprecated(**k): return lambda f: f
        class Instance:
            @deprecated(breaking_version='3.0')
            def f(self): ...
    """,
    near_about="the member was deprecated already; only its breaking version moved",
)
def member_deprecated(ctx: DiffContext):
    for name, old, new in ctx.common:
        if not old.deprecated and new.deprecated:
            yield ctx.hit(
                name, f"{name!r} is now deprecated: {new.deprecated}", old=old, new=new, details={"deprecated": new.deprecated}
            )


@rule(
    id="member-became-abstract",
    severity=BREAKING,
    audience=SUBCLASSES,
    family="decorators",
    summary="A concrete member became abstract.",
    explanation=(
        "Every subclass that does not implement it can no longer be instantiated "
        "(TypeError: Can't instantiate abstract class)."
    ),
    why_subclasses="DagsterInstance's metaclass derives from ABCMeta; subclasses must stay instantiable without implementing anything new.",
    fix="Give the member a default implementation (raising NotImplementedError at call time if needed).",
    example_old="""
        from abc import ABC

        class Instance(ABC):
            def get_ref(self): ...
    """,
    example_new="""
        from abc import ABC, abstractmethod

        class Instance(ABC):
            @abstractmethod
            def get_ref(self): ...
    """,
    near_old="""
        from abc import ABC, abstractmethod
        class Instance(ABC):
            @abstractmethod
            def f(self): ...
    """,
    near_new="""
        from abc import ABC, abstractmethod
        class Instance(ABC):
            @abstractmethod
            def f(self) -> int: ...
    """,
    near_about="the member was abstract already; only its annotation changed",
)
def member_became_abstract(ctx: DiffContext):
    for name, old, new in ctx.common:
        if not old.abstract and new.abstract:
            yield ctx.hit(name, f"{name!r} is now abstract", old=old, new=new)


# decorators whose effect another rule already reports (kind, abstract, @public, deprecation,
# property accessors); the remaining ones are compared by their last dotted name and arguments
_COVERED = frozenset(
    "property cached_property classmethod staticmethod abstractmethod abstractproperty public "
    "deprecated deprecated_param superseded beta preview override final".split()
)


def _decorator_key(text: str) -> str | None:
    text = text.strip().lstrip("@").strip()
    head, sep, args = text.partition("(")
    head = head.strip()
    if head.endswith((".setter", ".deleter", ".getter")):
        return None
    name = head.rsplit(".", 1)[-1]
    if name in _COVERED:
        return None
    return name + (sep + "".join(args.split()) if sep else "")


@rule(
    id="decorators-changed",
    cause="decorators",
    severity=INFO,
    audience=SUBCLASSES,
    family="decorators",
    summary=(
        "Other decorators of a member were added or removed (e.g. a cache, a tracing wrapper); "
        "module-qualified vs bare spellings of one decorator are the same decorator."
    ),
    explanation=(
        "Behaviour around the member changed (memoization, tracing, checks). Overrides do not "
        "inherit the decorator: a subclass overriding a newly cached method loses the caching."
    ),
    why_subclasses="A decorator on the base method wraps the base implementation only, never an override.",
    fix="Check that overrides still behave (caching, tracing, checks do not reach them) and say so in the changelog.",
    example_old="""
        class Instance:
            def get_settings(self, key): ...
    """,
    example_new="""
        from functools import lru_cache

        class Instance:
            @lru_cache
            def get_settings(self, key): ...
    """,
    near_old="""
        import functools
        class Instance:
            @functools.lru_cache(maxsize=2)
            def f(self): ...
    """,
    near_new="""
        from functools import lru_cache
        class Instance:
            @lru_cache(maxsize = 2)
            def f(self): ...
    """,
    near_about="`functools.lru_cache` and `lru_cache` imported from functools are one decorator",
)
def decorators_changed(ctx: DiffContext):
    for name, old, new in ctx.common:
        a = {k for k in map(_decorator_key, old.decorators) if k}
        b = {k for k in map(_decorator_key, new.decorators) if k}
        if a != b:
            removed, added = sorted(a - b), sorted(b - a)
            parts = []
            if removed:
                parts.append("removed " + ", ".join("@" + x for x in removed))
            if added:
                parts.append("added " + ", ".join("@" + x for x in added))
            yield ctx.hit(
                name,
                f"decorators of {name!r}: {'; '.join(parts)}",
                old=old,
                new=new,
                details={"removed": removed, "added": added},
            )

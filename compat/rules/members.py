"""Members that disappear, appear, move to another class of the MRO, or change kind."""

from __future__ import annotations

from compat.model.findings import BREAKING, BOTH, INFO, SUBCLASSES, WARNING
from compat.model.surface import (
    CACHED_PROPERTY,
    CLASS_ATTRIBUTE,
    CLASSMETHOD,
    DUNDER,
    METHOD,
    PROPERTY,
    PROTECTED,
    PUBLIC,
    STATICMETHOD,
)
from compat.rules.base import DiffContext, kind_label, rule, short


def _removed(ctx: DiffContext, visibility: str):
    for m in ctx.removed:
        if m.visibility != visibility:
            continue
        yield ctx.hit(
            m.name,
            f"{kind_label(m.kind)} {m.name!r} (defined in {short(m.defined_in)}) no longer exists",
            old=m,
            details={"kind": m.kind, "defined_in": m.defined_in},
        )


# one near miss shared by the rules below
_INTO_MIXIN_OLD = """
    class Instance:
        def _get_setting(self, key: str) -> "Optional[str]":
            return None

        @property
        def telemetry_enabled(self) -> bool:
            return self._get_setting("telemetry") == "1"

        def __enter__(self):
            return self
"""
_INTO_MIXIN_NEW = """
    class SettingsMixin:
        def _get_setting(self, key: str) -> "str | None":
            return None

        @property
        def telemetry_enabled(self) -> bool:
            return self._get_setting("telemetry") == "1"

        def __enter__(self):
            return self

    class Instance(SettingsMixin):
        pass
"""


@rule(
    id="public-member-removed",
    cause="removed",
    severity=BREAKING,
    audience=BOTH,
    family="members",
    summary="A public method, property or class attribute no longer exists on the class.",
    explanation=(
        "Callers of the member get AttributeError. A subclass override of it is no longer "
        "called by anything in the base, and a `super().<name>()` call in an override fails."
    ),
    why_subclasses=(
        "Subclasses override public members (`telemetry_enabled`, `get_required_daemon_types`) "
        "and call `super()` into them; both stop working, the first one silently."
    ),
    fix="Keep the member, delegating to its replacement, and deprecate it before removing it.",
    example_old="""
        class Instance:
            def get_run_records(self, filters=None): ...
    """,
    example_new="""
        class Instance:
            pass
    """,
    near_old=_INTO_MIXIN_OLD,
    near_new=_INTO_MIXIN_NEW,
    near_about="the member moved into a mixin the class now inherits: it still resolves on the class",
)
def public_member_removed(ctx: DiffContext):
    yield from _removed(ctx, PUBLIC)


@rule(
    id="protected-member-removed",
    cause="removed",
    severity=BREAKING,
    audience=SUBCLASSES,
    family="members",
    summary="A protected (`_name`) method, property or class attribute no longer exists.",
    explanation=(
        "Callers should not use it, but subclasses do: an override of `_name` is no longer "
        "reached from the base, and `self._name(...)` or `super()._name(...)` raises "
        "AttributeError."
    ),
    why_subclasses=(
        "Protected members are the subclass API of DagsterInstance; public-only tools miss "
        "their removal entirely."
    ),
    fix=(
        "Keep the protected member as an alias of its replacement, and keep calling it through self where "
        "the base did."
    ),
    example_old="""
        class Instance:
            def _get_setting(self, key): ...
    """,
    example_new="""
        class Instance:
            pass
    """,
    near_old=_INTO_MIXIN_OLD,
    near_new=_INTO_MIXIN_NEW,
    near_about="the protected member moved into a mixin the class now inherits: `self._name` still resolves",
)
def protected_member_removed(ctx: DiffContext):
    yield from _removed(ctx, PROTECTED)


@rule(
    id="dunder-member-removed",
    cause="removed",
    severity=BREAKING,
    audience=BOTH,
    family="members",
    summary="A dunder the class used to define or inherit (`__init__`, `__enter__`, `__exit__`...) is gone.",
    explanation=(
        "The protocol it implemented stops working: `with instance:` fails without "
        "`__enter__`/`__exit__`, and `super().__init__(...)` lands on a different class."
    ),
    why_subclasses=(
        "Subclasses extend dunders through `super()` (a `dispose()` reached from `__exit__`, an "
        "`__init__` forwarding `*args, **kwargs`); a missing dunder breaks the chain."
    ),
    fix="Keep the dunder on the class or one of its bases (a mixin in the MRO is fine).",
    example_old="""
        class Instance:
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                pass
    """,
    example_new="""
        class Instance:
            def __exit__(self, *exc):
                pass
    """,
    near_old=_INTO_MIXIN_OLD,
    near_new=_INTO_MIXIN_NEW,
    near_about="`__enter__` moved into a mixin the class now inherits: the protocol still works",
)
def dunder_member_removed(ctx: DiffContext):
    yield from _removed(ctx, DUNDER)


@rule(
    id="member-added",
    cause="added",
    severity=INFO,
    audience=SUBCLASSES,
    family="members",
    summary="A new member appears on the class.",
    explanation=(
        "Harmless for callers. A subclass that already defines a member of that name now "
        "overrides it by accident, and base code that calls it will run the subclass's version."
    ),
    why_subclasses=(
        "Names a subclass created for itself (methods, properties) must never start being "
        "defined by the base: check each new name against known subclasses."
    ),
    fix="Check the name against known subclasses (dagster-cloud, the corpus) and pick one they do not already define.",
    example_old="""
        class Instance:
            pass
    """,
    example_new="""
        class Instance:
            def get_run_tags(self): ...
    """,
    near_old=_INTO_MIXIN_OLD,
    near_new=_INTO_MIXIN_NEW,
    near_about="members moved into a mixin are not new to the class: they resolved on it before",
)
def member_added(ctx: DiffContext):
    for m in ctx.added:
        if m.visibility is None:
            continue
        yield ctx.hit(
            m.name,
            f"new {m.visibility} {kind_label(m.kind)} {m.name!r} in {short(m.defined_in)}; "
            "a subclass defining the same name now overrides it",
            new=m,
            details={"kind": m.kind, "defined_in": m.defined_in},
        )


def _moved_up(ctx: DiffContext, old, new) -> bool:
    """Whether the new defining class comes after the old one in the old MRO."""
    mro = ctx.old.cls.mro
    old_index = mro.index(old.defined_in) if old.defined_in in mro else None
    new_index = next((i for i, p in enumerate(mro) if ctx.same_class(p, new.defined_in)), None)
    return old_index is not None and new_index is not None and new_index > old_index


def _moved(ctx: DiffContext, pre_existing: bool):
    for name, old, new in ctx.common:
        if ctx.same_class(old.defined_in, new.defined_in):
            continue
        # a definition moved up into an ancestor that did not define it before keeps the
        # effective member: a move. Lookup landing on a definition that already existed (and was
        # overridden) in the old MRO, or on a class ahead of the old definer that now overrides
        # it, changes it. Surfaces that did not record what each member overrides (shadowed is
        # None) cannot tell the cases apart.
        was_ancestor = ctx.in_old_mro(new.defined_in)
        if was_ancestor and old.shadowed is not None and _moved_up(ctx, old, new):
            was_ancestor = any(ctx.same_class(s, new.defined_in) for s in old.shadowed)
        if was_ancestor != pre_existing:
            continue
        yield name, old, new


@rule(
    id="member-moved",
    cause="moved",
    severity=INFO,
    audience=SUBCLASSES,
    family="members",
    summary="A member is now defined by a class of the MRO that did not define it before (a new mixin, or a base it moved up into), so the effective member is the one that moved.",
    explanation=(
        "Callers see no difference. Overrides keep winning because the subclass comes first "
        "in the MRO, and `super().<name>()` lands on the mixin's implementation. Any signature "
        "change is reported by its own rule."
    ),
    why_subclasses=(
        "This is the expected shape of a split into mixins; it is reported (as info) so that "
        "a reviewer can confirm the move, and so that a move is never mistaken for "
        "a removal plus an addition."
    ),
    fix="Nothing to do if the signature is unchanged; keep the mixin in the MRO so super() still lands on it.",
    example_old="""
        class Instance:
            @property
            def telemetry_enabled(self) -> bool: ...
    """,
    example_new="""
        class SettingsMixin:
            @property
            def telemetry_enabled(self) -> bool: ...

        class Instance(SettingsMixin):
            pass
    """,
    near_old="""
        class Instance:
            def a(self): ...
            def b(self): ...
    """,
    near_new="""
        class Instance:
            def b(self): ...
            def a(self): ...
    """,
    near_about="a definition that only changed its place in the class body has not moved to another class",
)
def member_moved(ctx: DiffContext):
    for name, old, new in _moved(ctx, pre_existing=False):
        yield ctx.hit(
            name,
            f"{kind_label(new.kind)} {name!r} moved from {short(old.defined_in)} to {short(new.defined_in)}",
            old=old,
            new=new,
            details={"old_defined_in": old.defined_in, "new_defined_in": new.defined_in},
        )


@rule(
    id="member-resolution-changed",
    severity=BREAKING,
    severity_note=(
        "a warning when a class ahead of the old definition now overrides the member (a new "
        "implementation, not necessarily a different behaviour), and when the old surface did not "
        "record which definitions each member overrides (surfaces recorded by older versions of the "
        "harness): a move up into a base is then indistinguishable from a dropped override."
    ),
    audience=BOTH,
    family="members",
    summary=(
        "A member now resolves to a definition that already existed, overridden, in the old MRO: "
        "the class's own definition was dropped, or the MRO order changed."
    ),
    explanation=(
        "Attribute lookup now finds another pre-existing implementation, which may behave "
        "differently (or be abstract). A subclass's `super().<name>()` lands there too."
    ),
    why_subclasses=(
        "An override chain (leaf -> intermediate -> base) keeps its shape only while each "
        "`super()` reaches the implementation it was written against."
    ),
    fix="Keep the class's own definition, or restore the MRO order, so lookup lands where it did.",
    example_old="""
        class Store:
            def get_partitions(self): return []

        class Instance(Store):
            def get_partitions(self): return self._storage.partitions()
    """,
    example_new="""
        class Store:
            def get_partitions(self): return []

        class Instance(Store):
            pass
    """,
    near_old="""
        class Base: ...
        class Instance(Base):
            def f(self): return 2
    """,
    near_new="""
        class Base:
            def f(self): return 2
        class Instance(Base): ...
    """,
    near_about="the definition moved up into a base that did not define it before, so no overridden definition took over (member-moved reports the move)",
)
def member_resolution_changed(ctx: DiffContext):
    for name, old, new in _moved(ctx, pre_existing=True):
        hit = ctx.hit(
            name,
            f"{name!r} now resolves to {short(new.defined_in)} instead of {short(old.defined_in)} "
            f"({short(new.defined_in)} was already in the MRO)",
            old=old,
            new=new,
            details={"old_defined_in": old.defined_in, "new_defined_in": new.defined_in},
        )
        if old.shadowed is None or not _moved_up(ctx, old, new):
            hit.severity = WARNING  # unknown, or a new override ahead of the old definition
        yield hit


_CALLABLES = (METHOD, CLASSMETHOD, STATICMETHOD)
_PROPERTIES = (PROPERTY, CACHED_PROPERTY)


def _kind_group(kind: str) -> str:
    if kind in _CALLABLES:
        return "callable"
    if kind in _PROPERTIES:
        return "property"
    return kind


@rule(
    id="member-kind-changed",
    severity=BREAKING,
    audience=BOTH,
    family="members",
    summary="A member changed between method, property and class attribute.",
    explanation=(
        "`instance.x()` fails when x became a property and `instance.x` returns a bound method "
        "when it became a method. An override of the old kind no longer matches what the base "
        "does with it: the base reads a property the subclass defined as a method, or calls it."
    ),
    why_subclasses=(
        "Overrides such as `@property def run_launcher` only work while the base keeps the "
        "same kind; a mismatch is usually a TypeError deep in a base code path."
    ),
    fix="Keep the old kind; add the new shape under a new name.",
    example_old="""
        class Instance:
            @property
            def run_launcher(self): ...
    """,
    example_new="""
        class Instance:
            def run_launcher(self): ...
    """,
    near_old="""
        from functools import cached_property
        class Instance:
            @property
            def x(self): ...
    """,
    near_new="""
        from functools import cached_property
        class Instance:
            @cached_property
            def x(self): ...
    """,
    near_about="property to cached_property stays a value read (member-binding-changed reports it)",
)
def member_kind_changed(ctx: DiffContext):
    for name, old, new in ctx.common:
        if _kind_group(old.kind) != _kind_group(new.kind):
            yield ctx.hit(
                name,
                f"{name!r} changed from {kind_label(old.kind)} to {kind_label(new.kind)}",
                old=old,
                new=new,
                details={"old_kind": old.kind, "new_kind": new.kind},
            )


@rule(
    id="member-binding-changed",
    severity=BREAKING,
    audience=SUBCLASSES,
    family="members",
    summary=(
        "A member changed binding within its family: method <-> classmethod <-> staticmethod, "
        "or property <-> cached_property."
    ),
    severity_note=(
        "info for the two changes every old use survives: staticmethod -> classmethod (each call "
        "still binds) and property -> cached_property (reads, overrides and the absence of a setter "
        "all behave alike)."
    ),
    explanation=(
        "An override or a call written for the old binding receives different arguments (self vs "
        "cls vs nothing): `Sub.make()` of a classmethod turned staticmethod no longer builds a Sub, "
        "`Base.f(self, x)` fails on a method turned classmethod, and a cached_property can be "
        "assigned while a property cannot."
    ),
    why_subclasses=(
        "`config_schema` (classmethod) and `config_defaults` / `get` (staticmethods) are "
        "overridden and called on the class by dagster's factory; a binding change shifts "
        "every argument the override receives."
    ),
    fix="Keep the old binding (method, classmethod, staticmethod, property or cached_property).",
    example_old="""
        class Instance:
            @classmethod
            def config_schema(cls): ...
    """,
    example_new="""
        class Instance:
            @staticmethod
            def config_schema(): ...
    """,
    near_old="""
        class Instance:
            def f(self): ...
    """,
    near_new="""
        import functools
        class Instance:
            @functools.lru_cache
            def f(self): ...
    """,
    near_about="a decorator that keeps the method a plain method changes no binding (decorators-changed reports it)",
)
def member_binding_changed(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.kind != new.kind and _kind_group(old.kind) == _kind_group(new.kind):
            hit = ctx.hit(
                name,
                f"{name!r} changed from {kind_label(old.kind)} to {kind_label(new.kind)}",
                old=old,
                new=new,
                details={"old_kind": old.kind, "new_kind": new.kind},
            )
            if (old.kind, new.kind) in _HARMLESS_BINDINGS:
                hit.severity = INFO
            yield hit


# binding changes that every old call, read and override survives
_HARMLESS_BINDINGS = {(STATICMETHOD, CLASSMETHOD), (PROPERTY, CACHED_PROPERTY)}


@rule(
    id="property-setter-removed",
    severity=BREAKING,
    audience=BOTH,
    family="members",
    summary="A property that had a setter is now read-only.",
    explanation="`instance.x = value` now raises AttributeError, in callers and in subclass code alike.",
    why_subclasses="Subclasses that configure themselves by assigning a base property after `super().__init__()` break at construction.",
    fix="Keep the setter, even as a deprecated shim that writes the new storage.",
    example_old="""
        class Instance:
            def __init__(self):
                self._name = ""

            @property
            def name(self): return self._name

            @name.setter
            def name(self, value): self._name = value
    """,
    example_new="""
        class Instance:
            def __init__(self):
                self._name = ""

            @property
            def name(self): return self._name
    """,
    near_old="""
        class Instance:
            @property
            def x(self): ...
            @x.setter
            def x(self, v): ...
    """,
    near_new="""
        class M:
            @property
            def x(self): ...
            @x.setter
            def x(self, v): ...
        class Instance(M): ...
    """,
    near_about="the property moved into a mixin together with its setter: assignment still works",
)
def property_setter_removed(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.kind == PROPERTY and old.setter and new.kind in _PROPERTIES and not new.setter:
            if new.kind == CACHED_PROPERTY:
                continue  # a cached_property can still be assigned
            yield ctx.hit(name, f"property {name!r} lost its setter", old=old, new=new)


@rule(
    id="property-deleter-removed",
    severity=BREAKING,
    audience=BOTH,
    family="members",
    summary="A property that had a deleter no longer has one.",
    explanation="`del instance.x` now raises AttributeError.",
    why_subclasses="Subclasses that reset cached base state with `del self.x` break.",
    fix="Keep the deleter.",
    example_old="""
        class Instance:
            def __init__(self):
                self._cache = {}

            @property
            def cache(self): return self._cache

            @cache.deleter
            def cache(self): self._cache = {}
    """,
    example_new="""
        class Instance:
            def __init__(self):
                self._cache = {}

            @property
            def cache(self): return self._cache
    """,
    near_old="""
        class Instance:
            @property
            def x(self): ...
            @x.deleter
            def x(self): ...
    """,
    near_new="""
        class Instance:
            @property
            def x(self) -> int: ...
            @x.deleter
            def x(self): ...
    """,
    near_about="the deleter is kept; only the getter's annotation changed",
)
def property_deleter_removed(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.kind == PROPERTY and old.deleter and new.kind == PROPERTY and not new.deleter:
            yield ctx.hit(name, f"property {name!r} lost its deleter", old=old, new=new)


_ = CLASS_ATTRIBUTE  # class attributes are members too: removal is reported by the rules above

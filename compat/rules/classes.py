"""The class itself: where it lives, how it is imported, its bases, metaclass and slots."""

from __future__ import annotations

from compat.model.findings import BREAKING, BOTH, INFO, SUBCLASSES, WARNING
from compat.model.surface import ImportPath
from compat.rules.base import DiffContext, Hit, rule, short

CLASS = "<class>"


# one near miss shared by the rules below
_MOVED_REEXPORTED_OLD = """
    # pkg/__init__.py
    from pkg.mod import Instance

    # pkg/mod.py
    class InstanceType: ...

    class Instance:
        def f(self): ...
"""
_MOVED_REEXPORTED_NEW = """
    # pkg/__init__.py
    from pkg.mod import Instance

    # pkg/instance.py
    class InstanceType: ...

    class Instance:
        def f(self): ...

    # pkg/mod.py
    from pkg.instance import Instance, InstanceType
"""


@rule(
    id="class-moved",
    severity=INFO,
    audience=BOTH,
    family="class",
    summary="The class's defining module or qualname changed.",
    explanation=(
        "Pickled references, `instance_class: {module, class}` entries in dagster.yaml and "
        "imports of the old module path depend on the old location; whether the old import "
        "path still resolves is reported by `import-path-removed`."
    ),
    why_subclasses="Subclasses import their base by path; yaml configs name the module of the class to build.",
    fix="Re-export the class from its old module path.",
    example_old="""
        # pkg/mod.py
        class Instance: ...
    """,
    example_new="""
        # pkg/instance.py
        class Instance: ...

        # pkg/mod.py
        from pkg.instance import Instance  # re-exported from its new home
    """,
    near_old="""
        class Instance:
            def f(self): ...
    """,
    near_new="""
        class Instance:
            def f(self) -> None: ...
    """,
    near_about="the class stayed in its module; only an annotation changed",
)
def class_moved(ctx: DiffContext):
    old, new = ctx.old.cls, ctx.new.cls
    if (old.module, old.qualname) == (new.module, new.qualname):
        return
    new_paths = {ip.path: ip.resolves_to for ip in ctx.new.import_paths}
    if old.path not in new_paths:
        still = None
        verdict = "the new snapshot did not probe the old path"
    else:
        still = new_paths[old.path] == new.path
        verdict = "the old path still resolves to it" if still else "the old path no longer resolves to it"
    yield Hit(
        member=CLASS,
        message=f"class moved from {old.path} to {new.path}; {verdict}",
        old=old.path,
        new=new.path,
        old_location=old.location,
        new_location=new.location,
        details={"old_path_resolves": still},
    )


def _follows(ctx: DiffContext, old_target: str, new_target: str | None) -> bool:
    """The import still reaches the same thing, possibly moved (same short name)."""
    if new_target is None:
        return False
    if old_target == new_target or ctx.class_map.get(old_target) == new_target:
        return True
    return short(old_target) == short(new_target)


def _import_paths(surface) -> dict[str, str | None]:
    out = {ip.path: ip.resolves_to for ip in surface.import_paths}
    # the canonical path of the class is importable by definition
    out.setdefault(surface.cls.path, surface.cls.path)
    return out


@rule(
    id="import-path-removed",
    cause="import",
    severity=BREAKING,
    audience=BOTH,
    family="class",
    summary="A dotted path that used to import the class (or a re-export of it) no longer resolves.",
    explanation="`from <module> import <Class>` raises ImportError.",
    why_subclasses="A subclass module imports its base at import time: the whole subclass package fails to import.",
    fix="Re-export the class at the old import path.",
    example_old="""
        # pkg/__init__.py
        from pkg.mod import Instance

        # pkg/mod.py
        class Instance: ...
    """,
    example_new="""
        # pkg/__init__.py

        # pkg/mod.py
        class Instance: ...
    """,
    near_old=_MOVED_REEXPORTED_OLD,
    near_new=_MOVED_REEXPORTED_NEW,
    near_about="the class moved but its old module re-exports it: the old import path still resolves",
)
def import_path_removed(ctx: DiffContext):
    old_paths = _import_paths(ctx.old)
    new_paths = _import_paths(ctx.new)
    for path in sorted(old_paths):
        target = old_paths[path]
        if target is None:
            continue
        if path in new_paths and new_paths[path] is not None:
            continue
        if path not in new_paths and _probe_unknown(ctx, path):
            continue
        yield Hit(
            member=path,
            message=f"import path {path} no longer resolves (it resolved to {target})",
            old=f"{path} -> {target}",
            new=f"{path} -> (unresolved)",
            new_location=None,
        )


def _probe_unknown(ctx: DiffContext, path: str) -> bool:
    """The new snapshot never looked at this path's module: no verdict rather than a guess.

    A snapshot lists the candidate import paths around *its* target module; when old and new
    were taken with different targets, paths near the old module may simply not be probed."""
    module = path.rsplit(".", 1)[0]
    probed_modules = {p.rsplit(".", 1)[0] for p in _import_paths(ctx.new)} | set(ctx.new.exports)
    return module not in probed_modules


@rule(
    id="import-path-retargeted",
    cause="import",
    severity=WARNING,
    audience=BOTH,
    family="class",
    summary="An import path still resolves, but to a different object than before (not the same class moved).",
    explanation="Code importing it now gets another object; subclasses built on it inherit from something else.",
    why_subclasses="`class MyInstance(<path>)` silently changes its base class.",
    fix="Point the old import path back at the same class (re-export it), and give the new object its own name.",
    example_old="""
        # pkg/__init__.py
        from pkg.mod import Instance

        # pkg/mod.py
        class LegacyInstance: ...

        class Instance: ...
    """,
    example_new="""
        # pkg/__init__.py
        from pkg.mod import LegacyInstance as Instance

        # pkg/mod.py
        class LegacyInstance: ...

        class Instance: ...
    """,
    near_old=_MOVED_REEXPORTED_OLD,
    near_new=_MOVED_REEXPORTED_NEW,
    near_about="the old path follows the moved class: it is still the same object",
)
def import_path_retargeted(ctx: DiffContext):
    old_paths = _import_paths(ctx.old)
    new_paths = _import_paths(ctx.new)
    for path in sorted(set(old_paths) & set(new_paths)):
        a, b = old_paths[path], new_paths[path]
        if a is None or b is None or _follows(ctx, a, b):
            continue
        yield Hit(
            member=path,
            message=f"import path {path} now resolves to {b} instead of {a}",
            old=f"{path} -> {a}",
            new=f"{path} -> {b}",
        )


def _own(module: str, resolves_to: str) -> bool:
    """Defined in the module or, when the module is a package, in one of its submodules."""
    return resolves_to.startswith(module + ".")


def _removed_exports(ctx: DiffContext):
    covered = set(_import_paths(ctx.old))
    for module in sorted(ctx.old.exports):
        new_list = ctx.new.exports.get(module)
        if new_list is None:
            continue  # the new snapshot did not list this module's exports: no verdict
        new_by_path = {ip.path: ip for ip in new_list}
        for ip in sorted(ctx.old.exports[module], key=lambda i: i.path):
            if ip.resolves_to is None or ip.path in covered:
                continue
            now = new_by_path.get(ip.path)
            if now is not None and now.resolves_to is not None:
                continue
            yield module, ip


@rule(
    id="export-removed",
    cause="exports",
    severity=BREAKING,
    audience=BOTH,
    family="class",
    summary=(
        "A public name the target's module offered, defined in it or (for a package) in its "
        "submodules, such as a companion `InstanceRef` or `InstanceType`, no longer resolves from it."
    ),
    explanation="`from <module> import <name>` raises ImportError.",
    why_subclasses="Subclass packages import the class's companions from the class's module alongside the class itself.",
    fix="Keep the name importable from the module (re-export it).",
    example_old="""
        # pkg/mod.py
        class InstanceType: ...
        class Instance: ...
    """,
    example_new="""
        # pkg/mod.py
        class Instance: ...
    """,
    near_old=_MOVED_REEXPORTED_OLD,
    near_new=_MOVED_REEXPORTED_NEW,
    near_about="the companion moved but its old module re-exports it",
)
def export_removed(ctx: DiffContext):
    for module, ip in _removed_exports(ctx):
        if _own(module, ip.resolves_to):
            yield Hit(
                member=ip.path,
                message=f"{module} no longer exports {short(ip.path)} (it resolved to {ip.resolves_to})",
                old=f"{ip.path} -> {ip.resolves_to}",
                new=f"{ip.path} -> (unresolved)",
            )


@rule(
    id="incidental-reexport-removed",
    cause="exports",
    severity=INFO,
    audience=BOTH,
    family="class",
    summary=(
        "A name the target's module only imported from elsewhere (so it was importable from "
        "there by accident) no longer resolves from it."
    ),
    explanation=(
        "Code that imported it from this module gets ImportError; the fix is to import it from "
        "its home module, which the message names."
    ),
    why_subclasses=(
        "Reported as info: a module's incidental imports are not its API, and a split module "
        "drops dozens of them at once."
    ),
    fix="Nothing to do in the base; import the name from its home module.",
    example_old="""
        # pkg/util.py
        def merge_dicts(a, b): ...

        # pkg/mod.py
        from pkg.util import merge_dicts

        class Instance: ...
    """,
    example_new="""
        # pkg/util.py
        def merge_dicts(a, b): ...

        # pkg/mod.py
        class Instance: ...
    """,
    near_old="""
        class InstanceType: ...
        class Instance: ...
    """,
    near_new="""
        class Instance: ...
    """,
    near_about="a name the module defined itself is its own export (export-removed reports it)",
)
def incidental_reexport_removed(ctx: DiffContext):
    for module, ip in _removed_exports(ctx):
        if not _own(module, ip.resolves_to):
            yield Hit(
                member=ip.path,
                message=f"{module} no longer re-exports {short(ip.path)}; import it from {ip.resolves_to.rsplit('.', 1)[0]}",
                old=f"{ip.path} -> {ip.resolves_to}",
                new=f"{ip.path} -> (unresolved)",
            )


@rule(
    id="base-removed",
    severity=BREAKING,
    audience=BOTH,
    family="class",
    summary="A direct base class is no longer anywhere in the MRO.",
    explanation=(
        "`isinstance(instance, Base)` checks fail, and every member the class inherited from "
        "the base is gone unless re-implemented (those are reported member by member)."
    ),
    why_subclasses="Subclasses inherit the MRO; code that dispatches on the removed base stops recognising them.",
    fix="Keep the base in the MRO (a mixin can inherit from it).",
    example_old="""
        class Store: ...

        class Instance(Store): ...
    """,
    example_new="""
        class Store: ...

        class Instance: ...
    """,
    near_old="""
        class Store: ...
        class Instance(Store): ...
    """,
    near_new="""
        class Store: ...
        class StoreMixin(Store): ...
        class Instance(StoreMixin): ...
    """,
    near_about="the base is still in the MRO, through a new intermediate class",
)
def base_removed(ctx: DiffContext):
    for base in ctx.old.cls.bases:
        if ctx.in_new_mro(base) or base in ("object", "builtins.object"):
            continue
        yield Hit(
            member=CLASS,
            message=f"base class {base} is no longer in the MRO",
            old=", ".join(ctx.old.cls.bases),
            new=", ".join(ctx.new.cls.bases),
            old_location=ctx.old.cls.location,
            new_location=ctx.new.cls.location,
            details={"base": base},
        )


@rule(
    id="ancestor-removed",
    severity=WARNING,
    audience=BOTH,
    family="class",
    summary="An indirect ancestor (not a direct base) is no longer in the MRO.",
    explanation="`isinstance` checks against that ancestor fail.",
    why_subclasses="Subclasses lose that ancestor too.",
    fix="Keep the ancestor in the MRO, or keep isinstance checks against it true another way.",
    example_old="""
        class Store: ...

        class Base(Store): ...

        class Instance(Base): ...
    """,
    example_new="""
        class Store: ...

        class Base: ...

        class Instance(Base): ...
    """,
    near_old="""
        class S: ...
        class B(S): ...
        class Instance(B): ...
    """,
    near_new="""
        class S: ...
        class B(S): ...
        class C(S): ...
        class Instance(B, C): ...
    """,
    near_about="the ancestor is still in the MRO, through another base",
)
def ancestor_removed(ctx: DiffContext):
    bases = set(ctx.old.cls.bases)
    for path in ctx.old.cls.mro[1:]:
        if path in bases or ctx.in_new_mro(path) or path in ("object", "builtins.object"):
            continue
        yield Hit(
            member=CLASS,
            message=f"ancestor {path} is no longer in the MRO",
            old=" -> ".join(short(p) for p in ctx.old.cls.mro),
            new=" -> ".join(short(p) for p in ctx.new.cls.mro),
            old_location=ctx.old.cls.location,
            new_location=ctx.new.cls.location,
            details={"ancestor": path},
        )


@rule(
    id="base-added",
    severity=INFO,
    audience=SUBCLASSES,
    family="class",
    summary="A new class joined the MRO (typically a mixin of a split).",
    explanation="Its members (reported by `member-moved` / `member-added`) now sit between subclasses and the old bases.",
    why_subclasses="Cooperative `super()` chains in subclasses now pass through the new class.",
    fix="Nothing to do if the new base only adds members that subclasses do not already define.",
    example_old="""
        class Instance: ...
    """,
    example_new="""
        class SettingsMixin: ...

        class Instance(SettingsMixin): ...
    """,
    near_old="""
        class A: ...
        class B: ...
        class Instance(A, B): ...
    """,
    near_new="""
        class A: ...
        class B: ...
        class Instance(B, A): ...
    """,
    near_about="reordered bases add no class to the MRO",
)
def base_added(ctx: DiffContext):
    for path in ctx.new.cls.mro[1:]:
        if ctx.in_old_mro(path) or path in ("object", "builtins.object"):
            continue
        yield Hit(
            member=CLASS,
            message=f"{path} is new in the MRO",
            old=" -> ".join(short(p) for p in ctx.old.cls.mro),
            new=" -> ".join(short(p) for p in ctx.new.cls.mro),
            new_location=ctx.new.cls.location,
            details={"added": path},
        )


def _meta(value: str | None) -> str:
    return "builtins.type" if value in (None, "type", "builtins.type") else value


@rule(
    id="metaclass-changed",
    severity=WARNING,
    audience=SUBCLASSES,
    family="class",
    summary="The class's metaclass changed.",
    explanation=(
        "A subclass that mixes in another class with its own metaclass can fail at class "
        "creation (metaclass conflict); ABC behaviour (abstract checks) may appear or vanish."
    ),
    why_subclasses="DagsterInstance's metaclass derives from ABCMeta (through typing Protocol); subclasses inherit it and must stay compatible with it.",
    fix="Keep the metaclass (or make the new one a subclass of the old).",
    example_old="""
        from abc import ABCMeta

        class Instance(metaclass=ABCMeta): ...
    """,
    example_new="""
        class Instance: ...
    """,
    near_old="""
        class Instance: ...
    """,
    near_new="""
        class Instance(metaclass=type): ...
    """,
    near_about="`metaclass=type` spells out the default metaclass",
)
def metaclass_changed(ctx: DiffContext):
    a, b = _meta(ctx.old.cls.metaclass), _meta(ctx.new.cls.metaclass)
    if a != b:
        yield Hit(
            member=CLASS,
            message=f"metaclass changed from {a} to {b}",
            old=a,
            new=b,
            old_location=ctx.old.cls.location,
            new_location=ctx.new.cls.location,
        )


@rule(
    id="slots-changed",
    severity=WARNING,
    audience=SUBCLASSES,
    family="class",
    summary="`__slots__` was added, removed or changed.",
    explanation=(
        "Slots change the instance layout: assigning attributes outside the slots fails for "
        "slotted classes without `__dict__`, and multiple inheritance from two slotted bases "
        "fails with a layout conflict."
    ),
    why_subclasses="Subclasses assign their own attributes and may combine the class with other slotted bases.",
    fix="Keep __slots__ as it was (or keep __dict__ in them).",
    example_old="""
        class Instance: ...
    """,
    example_new="""
        class Instance:
            __slots__ = ("_settings",)
    """,
    near_old="""
        class Instance:
            __slots__ = ('a', 'b')
    """,
    near_new="""
        class Instance:
            __slots__ = ['b', 'a']
    """,
    near_about="the same slot names in another order and container",
)
def slots_changed(ctx: DiffContext):
    a, b = ctx.old.cls.slots, ctx.new.cls.slots
    if a != b:
        yield Hit(
            member=CLASS,
            message=f"__slots__ changed from {a} to {b}",
            old=f"__slots__ = {a}" if a is not None else "(no __slots__)",
            new=f"__slots__ = {b}" if b is not None else "(no __slots__)",
            old_location=ctx.old.cls.location,
            new_location=ctx.new.cls.location,
        )


_ = ImportPath

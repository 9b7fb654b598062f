"""Which classes of a package subclass a dagster class, and which dagster classes they reach.

A package's class reaches a dagster base directly (`class PostgresRunStorage(SqlRunStorage,
ConfigurableClass)`) or through another class of the package (`class Leaf(Mid)`, `Mid(RunLauncher)`).
Its *bases* are the nearest dagster classes on each line of inheritance, less those already in
another base's MRO (ConfigurableClass is in neither's MRO here, so both count; a mixin that
SqlRunStorage itself inherits would not): each base's surface is flattened over its own MRO, so the
nearest one carries everything above it.

Read statically (griffe over the unpacked wheel and the dagster sources); nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import griffe

from compat.model.errors import CompatError
from compat.static.extract import Extractor
from compat.static.loader import StaticLoader
from compat.static.profile import _defined_class_nodes, _modules_under, _tree_packages


@dataclass(frozen=True)
class Base:
    """A dagster class a package class reaches: its canonical target and the name the package
    imports it by (which may still resolve where the canonical module moved)."""

    target: str  # "module:Qualname" where the class is defined
    imported_as: str  # dotted path as the package's module names it

    @property
    def path(self) -> str:
        return self.target.replace(":", ".")

    @property
    def name(self) -> str:
        return self.target.rsplit(":", 1)[-1]


@dataclass
class Found:
    subclass: str  # dotted path of the package class
    location: str
    bases: list[Base] = field(default_factory=list)


def target_of(cls: griffe.Class) -> str:
    module = cls.module.path
    return f"{module}:{cls.path[len(module) + 1:]}"


def package_modules(tree: Path) -> list[str]:
    """Every module of every top-level package in an unpacked wheel."""
    return [mod for pkg in _tree_packages(tree) for mod in _modules_under(tree, pkg)]


def discover(tree: Path, dagster_paths: list[str], *, family: str = "dagster") -> list[Found]:
    """Every class of the package under `tree` that reaches a class of `family`, sorted by path."""
    modules = package_modules(tree)
    if not modules:
        raise CompatError(f"{tree}: holds no python package")
    own_tops = {m.split(".", 1)[0] for m in modules}
    loader = StaticLoader([str(tree), *dagster_paths])
    ext = Extractor(loader)
    found = []
    for modname in modules:
        try:
            mod = loader.module(modname)
        except CompatError:
            continue  # an unparsable file defines nothing we can check
        if mod is None:
            continue
        for cls in _defined_class_nodes(mod):
            if not cls.bases:
                continue
            try:
                reached = _nearest(ext, cls, own_tops, family, set())
                if not reached:
                    continue
                mros = {b.path: {p for p, _ in ext.mro(node)[1:]} for b, node in reached}
            except CompatError:
                continue
            except RecursionError:  # pragma: no cover - a cyclic hierarchy
                continue
            nearest: dict[str, Base] = {}
            for b, _ in sorted(reached, key=lambda t: (t[0].target, t[0].imported_as)):
                if not any(b.path in m for p, m in mros.items() if p != b.path):
                    nearest.setdefault(b.target, b)
            bases = list(nearest.values())
            found.append(Found(subclass=cls.path, location=ext.location(cls, cls.lineno or 0), bases=bases))
    return sorted(found, key=lambda f: f.subclass)


def _nearest(ext: Extractor, cls: griffe.Class, own_tops: set[str], family: str,
             seen: set[str]) -> list[tuple[Base, griffe.Class]]:
    """The nearest `family` classes on each line of `cls`'s inheritance."""
    if cls.path in seen:
        return []
    seen.add(cls.path)
    out = []
    for expr in cls.bases:
        node = expr.left if isinstance(expr, griffe.ExprSubscript) else expr
        written = getattr(node, "canonical_path", None) or str(node)
        if ext.loader.is_external(written):
            continue
        resolved = ext.class_node(written)
        if resolved is None:
            continue
        top = resolved.path.split(".", 1)[0]
        if top in own_tops:
            out += _nearest(ext, resolved, own_tops, family, seen)
        elif top == family:
            out.append((Base(target=target_of(resolved), imported_as=written), resolved))
    return out


__all__ = ["Base", "Found", "discover", "package_modules", "target_of"]

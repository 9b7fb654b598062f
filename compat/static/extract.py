"""Extract the surface of a target class: griffe for modules and signatures, ast for bodies.

The class is flattened over its MRO: a member that moved into a mixin is still the same
member, recorded with the class that now defines it. Per method the body is read for the
`self.<name>` references, calls and assignments it makes (the static half of the hook
contract) and the `super().<name>` calls; instance attributes are found wherever `self.x` is
assigned, with the assigning method.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path

import griffe

from compat.envs import cache_dir, installed_search_paths  # noqa: F401 - the extractor's default search paths
from compat.model import jsonio, schemas
from compat.model import surface as model
from compat.model.errors import CompatError
from compat.model.surface import (
    CACHED_PROPERTY,
    CLASS_ATTRIBUTE,
    CLASSMETHOD,
    METHOD,
    PROPERTY,
    STATICMETHOD,
    SURFACE_SCHEMA,
    SURFACE_VERSION,
    ClassInfo,
    ImportPath,
    InstanceAttribute,
    Member,
    Surface,
    visibility_of,
)
from compat.model import annotations
from compat.static import bodies, loader
from compat.static.bodies import (
    _decorator_name,
    _BodyRefs,
    _returned,
    _is_self_alias,
    _local_imports,
    _self_name,
    _ast_signature,
    _griffe_signature,
)
from compat.model import annotations as ann
from compat.static.loader import StaticLoader, distribution_version

DEFAULT_TARGET = "dagster._core.instance:DagsterInstance"

# Class-body names that are Python's bookkeeping, not members a subclass can feel.
_IGNORED_NAMES = {
    "__doc__", "__module__", "__qualname__", "__slots__", "__annotations__", "__dict__",
    "__weakref__", "__firstlineno__", "__static_attributes__", "__orig_bases__",
    "__parameters__", "_abc_impl", "__abstractmethods__",
}
_PROPERTY_DECORATORS = {"property", "abstractproperty"}
_CACHED_DECORATORS = {"cached_property", "cached_method"}
# Implicit metaclasses of well-known external bases.
_EXTERNAL_METACLASSES = {
    "abc.ABC": "abc.ABCMeta",
    "typing.Protocol": "typing._ProtocolMeta",
    "typing_extensions.Protocol": "typing._ProtocolMeta",
    "enum.Enum": "enum.EnumMeta",
    "typing.NamedTuple": "typing.NamedTupleMeta",
}


def parse_target(target: str) -> tuple[str, str]:
    if ":" not in target:
        raise CompatError(f"--target {target!r}: expected module:Class, e.g. {DEFAULT_TARGET}")
    module, _, qualname = target.partition(":")
    if not module or not qualname or not all(p.isidentifier() for p in module.split(".") + qualname.split(".")):
        raise CompatError(f"--target {target!r}: expected module:Class, e.g. {DEFAULT_TARGET}")
    return module, qualname


# --- the extractor ---------------------------------------------------------------------------
class Extractor:
    def __init__(self, loader: StaticLoader):
        self.loader = loader
        self.bodies: dict[tuple[str, str], list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]] = {}
        self._helper_memo: dict[tuple[str, str], tuple[set[str], set[str]]] = {}

    def class_node(self, path: str) -> griffe.Class | None:
        obj = self.loader.resolve(path)
        return obj if isinstance(obj, griffe.Class) else None

    def base_paths(self, cls: griffe.Class) -> list[tuple[str, griffe.Class | None]]:
        """Each base as (path, resolved class or None for external/unresolvable)."""
        out = []
        for expr in cls.bases:
            node = expr
            if isinstance(node, griffe.ExprSubscript):  # Generic[T], Protocol[T]
                node = node.left
            path = getattr(node, "canonical_path", None) or str(node)
            resolved = self.class_node(path) if not self.loader.is_external(path) else None
            out.append((resolved.path if resolved is not None else path, resolved))
        return out

    def mro(self, cls: griffe.Class) -> list[tuple[str, griffe.Class | None]]:
        """C3 linearization over resolved bases; external bases are leaves."""
        memo: dict[str, list[tuple[str, griffe.Class | None]]] = {}

        def lin(path: str, node: griffe.Class | None, stack: tuple[str, ...]) -> list:
            if path in memo:
                return memo[path]
            if node is None or path in stack:
                return [(path, None)]
            bases = self.base_paths(node)
            seqs = [lin(p, n, stack + (path,)) for p, n in bases] + [list(bases)]
            result = [(path, node)]
            seqs = [list(s) for s in seqs if s]
            while seqs:
                for seq in seqs:
                    head = seq[0]
                    if not any(head[0] in [x[0] for x in s[1:]] for s in seqs):
                        break
                else:  # inconsistent hierarchy: fall back to depth-first order
                    head = seqs[0][0]
                result.append(head)
                seqs = [[x for x in s if x[0] != head[0]] for s in seqs]
                seqs = [s for s in seqs if s]
            memo[path] = result
            return result

        return lin(cls.path, cls, ())

    def class_ast(self, cls: griffe.Class) -> ast.ClassDef:
        module = cls.module.path
        tree = self.loader.ast_of(module)
        candidates = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.name]
        for node in candidates:
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            if start == cls.lineno or node.lineno == cls.lineno:
                return node
        if candidates:
            return candidates[0]
        raise CompatError(f"cannot find the source of class {cls.path}")  # pragma: no cover

    def location(self, cls: griffe.Class, line: int) -> str:
        return f"{self.loader.files[cls.module.path].relpath}:{line}"

    def class_members(self, cls: griffe.Class) -> dict[str, Member]:
        """Members defined in this class's own body (bodies kept for `analyze`)."""
        node = self.class_ast(cls)
        members: dict[str, Member] = {}
        assigns = None
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(cls, stmt, members, assigns)
            elif isinstance(stmt, ast.Assign) or (isinstance(stmt, ast.AnnAssign) and stmt.value is not None):
                # A bare `x: T` in a class body only declares an instance attribute for type
                # checkers; nothing exists at runtime until some method assigns it.
                self._class_attribute(cls, stmt, members)
        return members

    def _function(self, cls, fn, members: dict[str, Member], assigns) -> None:
        decos = [_decorator_name(d) for d in fn.decorator_list]
        if "overload" in decos:
            return
        name = fn.name
        vis = visibility_of(name)
        rendered = [ast.unparse(d) for d in fn.decorator_list]
        if f"{name}.setter" in decos or f"{name}.deleter" in decos:
            prior = members.get(name)
            if prior is not None:
                if f"{name}.setter" in decos:
                    prior.setter = True
                else:
                    prior.deleter = True
                self.bodies.setdefault((cls.path, name), []).append((fn, METHOD))
            return
        if _PROPERTY_DECORATORS & set(decos):
            kind = PROPERTY
        elif _CACHED_DECORATORS & set(decos):
            kind = CACHED_PROPERTY
        elif "classmethod" in decos:
            kind = CLASSMETHOD
        elif "staticmethod" in decos:
            kind = STATICMETHOD
        else:
            kind = METHOD
        gobj = cls.members.get(name)
        if isinstance(gobj, griffe.Function):
            sig = _griffe_signature(gobj)
        else:
            sig = _ast_signature(fn)
        deprecated = next((r for r, d in zip(rendered, decos) if "deprecat" in d.lower() and d != "deprecated_param"), None)
        labels = sorted(gobj.labels) if gobj is not None and hasattr(gobj, "labels") else []
        members[name] = Member(
            name=name,
            kind=kind,
            visibility=vis or "private",
            defined_in=cls.path,
            location=self.location(cls, fn.lineno),
            signature=sig,
            decorators=rendered,
            labels=labels,
            public_api="public" in decos,
            deprecated=deprecated,
            abstract=bool({"abstractmethod", "abstractproperty"} & set(decos)),
        )
        self.bodies[(cls.path, name)] = [(fn, kind)]

    # -- the hook contract: what each method does with the instance -----------------------
    def self_aliases(self, members: dict[str, Member]) -> set[str]:
        out = set()
        for name, m in members.items():
            if m.kind in (PROPERTY, CACHED_PROPERTY):
                fn, kind = self.bodies[(m.defined_in, name)][0]
                if _is_self_alias(fn, _self_name(fn, kind)):
                    out.add(name)
        return out

    def _resolve_local(self, cls: griffe.Class, fn: ast.AST, name: str) -> griffe.Class | None:
        path = _local_imports(fn).get(name)
        if path is None:
            obj = cls.module.members.get(name)
            if obj is None:
                return None
            path = obj.target_path if isinstance(obj, griffe.Alias) else obj.path
        return self.class_node(path)

    def delegates(self, members: dict[str, Member], aliases: set[str], owners: dict[str, griffe.Class]) -> dict[str, tuple[griffe.Class, set[str]]]:
        """Properties that build a helper around the instance: `return RunDomain(self)`.

        Returns {property: (helper class, the helper's fields that hold the instance)}.
        """
        out: dict[str, tuple[griffe.Class, set[str]]] = {}
        for name, m in members.items():
            if m.kind not in (PROPERTY, CACHED_PROPERTY):
                continue
            fn, kind = self.bodies[(m.defined_in, name)][0]
            self_name = _self_name(fn, kind)
            for value in _returned(fn):
                if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
                    continue
                index = None
                for i, arg in enumerate(value.args):
                    if (isinstance(arg, ast.Name) and arg.id == self_name) or (
                        isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)
                        and arg.value.id == self_name and arg.attr in aliases
                    ):
                        index = i
                if index is None:
                    continue
                helper = self._resolve_local(owners[m.defined_in], fn, value.func.id)
                if helper is None or helper.path in owners:
                    continue
                fields = self._instance_fields(helper, index)
                if fields:
                    out[name] = (helper, fields)
        return out

    def _instance_fields(self, helper: griffe.Class, index: int) -> set[str]:
        init = next((n for n in self.class_ast(helper).body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is None:
            return set()
        params = [a.arg for a in init.args.posonlyargs + init.args.args][1:]
        if index >= len(params):
            return set()
        param = params[index]
        fields = set()
        for node in ast.walk(init):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == param:
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                        fields.add(t.attr)
        return fields

    def helper_refs(self, helper: griffe.Class, fields: set[str], method: str) -> tuple[set[str], set[str]]:
        """Instance refs and calls a helper method makes, following its own self-calls."""
        key = (helper.path, method)
        if key in self._helper_memo:
            return self._helper_memo[key]
        self._helper_memo[key] = (set(), set())
        body = {n.name: n for n in self.class_ast(helper).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        refs: set[str] = set()
        calls: set[str] = set()
        fn = body.get(method)
        if fn is not None:
            scan = _BodyRefs(_self_name(fn, METHOD), fields=fields).scan(fn)
            refs |= scan.refs
            calls |= scan.calls
            for own in sorted(scan.own_calls):
                if own in body:
                    r, c = self.helper_refs(helper, fields, own)
                    refs |= r
                    calls |= c
        self._helper_memo[key] = (refs, calls)
        return refs, calls

    def _mro_targets(self, owners: dict[str, griffe.Class], cls_path: str, fn: ast.AST, scan: _BodyRefs) -> list[tuple[str, str]]:
        """The (class path, method) implementations of the MRO a body runs explicitly:
        `Base.method(self, ...)` naming a class of the MRO, and `super().method(...)` (the next
        class after ``cls_path`` that defines it)."""
        out = set()
        for cls_name, method in scan.explicit:
            cls = self._resolve_local(owners[cls_path], fn, cls_name)
            if cls is not None and cls.path in owners and (cls.path, method) in self.bodies:
                out.add((cls.path, method))
        order = list(owners)
        later = order[order.index(cls_path) + 1:] if cls_path in order else []
        for method in scan.supers:
            nxt = next((p for p in later if (p, method) in self.bodies), None)
            if nxt is not None:
                out.add((nxt, method))
        return sorted(out)

    def mro_refs(self, owners: dict[str, griffe.Class], aliases: set[str], cls_path: str, method: str) -> tuple[set[str], set[str]]:
        """Instance refs and calls of one class's own implementation of ``method``, following
        its explicit calls into the MRO in turn (so a hook reached only through
        `AssetMethods.wipe_assets(self, ...)` is still seen)."""
        key = ("<mro>" + cls_path, method)
        if key in self._helper_memo:
            return self._helper_memo[key]
        self._helper_memo[key] = (set(), set())
        refs: set[str] = set()
        calls: set[str] = set()
        for fn, kind in self.bodies.get((cls_path, method), []):
            scan = _BodyRefs(_self_name(fn, kind), aliases).scan(fn)
            refs |= scan.refs
            calls |= scan.calls
            for target in self._mro_targets(owners, cls_path, fn, scan):
                r, c = self.mro_refs(owners, aliases, *target)
                refs |= r
                calls |= c
        self._helper_memo[key] = (refs, calls)
        return refs, calls

    def analyze(self, members: dict[str, Member], owners: dict[str, griffe.Class]) -> dict[str, dict[str, tuple[dict, dict]]]:
        """Fill self_refs/self_calls/super_calls/assigns/delegates on the flattened members.

        Returns the self.<x> assignments of every method of every class in the MRO, as
        {class path: {method: ({attr: line}, {attr: annotation})}}.
        """
        aliases = self.self_aliases(members)
        helpers = self.delegates(members, aliases, owners)
        for name, m in members.items():
            for fn, kind in self.bodies.get((m.defined_in, name), []):
                scan = _BodyRefs(_self_name(fn, kind), aliases, delegates=set(helpers)).scan(fn)
                refs, calls = set(scan.refs), set(scan.calls)
                via = set()
                for prop, method in scan.delegated:
                    helper, fields = helpers[prop]
                    r, c = self.helper_refs(helper, fields, method)
                    refs |= r
                    calls |= c
                    via.add(f"{helper.path}.{method}")
                for cls_name, index, method in sorted(scan.built):
                    helper = self._resolve_local(owners[m.defined_in], fn, cls_name)
                    if helper is None or helper.path in owners:
                        continue  # not a class, or one of the instance's own classes
                    fields = self._instance_fields(helper, index)
                    if not fields:
                        continue
                    r, c = self.helper_refs(helper, fields, method)
                    refs |= r
                    calls |= c
                    via.add(f"{helper.path}.{method}")
                for target in self._mro_targets(owners, m.defined_in, fn, scan):
                    r, c = self.mro_refs(owners, aliases, *target)
                    refs |= r
                    calls |= c
                m.self_refs = sorted(set(m.self_refs) | refs)
                m.self_calls = sorted(set(m.self_calls) | calls)
                m.super_calls = sorted(set(m.super_calls) | scan.supers)
                m.assigns = sorted(set(m.assigns) | set(scan.assigns))
                m.delegates = sorted(set(m.delegates) | via)
        assigns: dict[str, dict[str, tuple[dict, dict]]] = {}
        for (cls_path, name), fns in sorted(self.bodies.items(), key=lambda kv: kv[0]):
            for fn, kind in fns:
                scan = _BodyRefs(_self_name(fn, kind), aliases).scan(fn)
                if scan.assigns:
                    lines, annots = assigns.setdefault(cls_path, {}).setdefault(name, ({}, {}))
                    for k, v in scan.assigns.items():
                        lines.setdefault(k, v)
                    annots.update(scan.annotations)
        return assigns

    def _class_attribute(self, cls, stmt, members: dict[str, Member]) -> None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        annotation = ast.unparse(stmt.annotation) if isinstance(stmt, ast.AnnAssign) else None
        value = ast.unparse(stmt.value) if stmt.value is not None else None
        if value is not None and len(value) > 200:
            value = value[:197] + "..."
        for t in targets:
            if not isinstance(t, ast.Name) or t.id in _IGNORED_NAMES:
                continue
            vis = visibility_of(t.id)
            if vis is None:
                continue
            members[t.id] = Member(
                name=t.id,
                kind=CLASS_ATTRIBUTE,
                visibility=vis,
                defined_in=cls.path,
                location=self.location(cls, stmt.lineno),
                value=value,
                annotation=annotation,
                annotation_norm=ann.normalize(annotation),
            )

    def slots(self, cls: griffe.Class) -> list[str] | None:
        for stmt in self.class_ast(cls).body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in stmt.targets):
                try:
                    value = ast.literal_eval(stmt.value)
                except ValueError:
                    return [ast.unparse(stmt.value)]
                return sorted([value] if isinstance(value, str) else list(value))
        return None

    def metaclass(self, mro: list[tuple[str, griffe.Class | None]]) -> str | None:
        for path, node in mro:
            if node is None:
                if path in _EXTERNAL_METACLASSES:
                    return _EXTERNAL_METACLASSES[path]
                continue
            for kw in self.class_ast(node).keywords:
                if kw.arg == "metaclass":
                    name = ast.unparse(kw.value)
                    scope = node.module
                    try:
                        return scope.resolve(name)
                    except Exception:
                        return name
        return None


def _import_candidates(target_module: str, defining: griffe.Class) -> list[str]:
    name = defining.name
    mods = {target_module}
    for mod in (target_module, defining.module.path):
        parts = mod.split(".")
        for i in range(1, len(parts) + 1):
            mods.add(".".join(parts[:i]))
    return sorted(f"{m}.{name}" for m in mods)


def _exports(loader: StaticLoader, module_name: str) -> list[ImportPath]:
    """Public names the module offers: `__all__`, else what it defines plus runtime re-exports."""
    mod = loader.module(module_name)
    if mod is None:
        return []
    family = module_name.split(".", 1)[0]
    names: list[str] = []
    if mod.exports:
        names = [str(e) for e in mod.exports]
    else:
        for name, obj in mod.members.items():
            if name.startswith("_"):
                continue
            if isinstance(obj, griffe.Alias):
                if not obj.runtime or not obj.target_path.split(".", 1)[0].startswith(family):
                    continue
                if obj.target_path.count(".") == 0:
                    continue
            elif obj.is_module:
                continue
            names.append(name)
    out = []
    for name in sorted(set(names)):
        resolved = loader.resolve(f"{module_name}.{name}")
        out.append(ImportPath(path=f"{module_name}.{name}", resolves_to=resolved.path if resolved is not None else None))
    return out


def extract(target: str, search_paths: list[str], *, source: str = "installed") -> tuple[Surface, StaticLoader]:
    """Build the surface of `target` ("module:Class") from sources under `search_paths`."""
    module_name, _ = parse_target(target)
    loader = StaticLoader(search_paths)
    obj = _target_class(loader, target)
    ext = Extractor(loader)
    mro = ext.mro(obj)
    members = _public_members(ext, mro)
    attrs = _instance_attributes(ext, mro, members)
    cls_info = _class_info(ext, obj, mro)
    imports = []
    for path in _import_candidates(module_name, obj):
        resolved = loader.resolve(path)
        imports.append(ImportPath(path=path, resolves_to=resolved.path if resolved is not None else None))
    exports = {module_name: _exports(loader, module_name)}
    generator = {
        "compat": _version("compat"),
        "griffe": _version("griffe"),
        "dagster": distribution_version(search_paths) or "unknown",
        "source": source,
        # annotation names normalized through griffe's resolution (collections.abc.Set is
        # AbstractSet); surfaces without this key read every `Set` as typing.Set
        "annotations": "resolved",
    }
    surface = Surface(
        target=target,
        cls=cls_info,
        members=dict(sorted(members.items())),
        instance_attributes=dict(sorted(attrs.items())),
        import_paths=imports,
        exports=exports,
        generator=generator,
    )
    return surface, loader


def _target_class(loader: StaticLoader, target: str) -> griffe.Class:
    """The class `target` names, or one line saying which part of the name finds nothing."""
    module_name, qualname = parse_target(target)
    mod = loader.module(module_name)
    if mod is None:
        raise CompatError(f"--target {target}: module {module_name} not found (is the package installed in that environment?)")
    obj = loader.resolve(f"{module_name}.{qualname}")
    if obj is None:
        raise CompatError(f"--target {target}: {module_name} has no attribute {qualname}")
    if not isinstance(obj, griffe.Class):
        raise CompatError(f"--target {target}: {obj.path} is a {obj.kind.value}, not a class")
    return obj


def _public_members(ext: Extractor, mro) -> dict[str, Member]:
    """Every member a subclass can see, each as its nearest definition in the MRO, with the
    farther classes that define it too (what the nearer one shadows)."""
    members: dict[str, Member] = {}
    defined_by: dict[str, list[str]] = {}
    # Walk the MRO from the most basic class up, so nearer definitions win.
    for path, node in reversed(mro):
        if node is None:
            continue
        for name, member in ext.class_members(node).items():
            if member.visibility != "private":
                members[name] = member
                defined_by.setdefault(name, []).insert(0, path)
    for name, member in members.items():
        member.shadowed = defined_by[name][1:]
    return members


def _instance_attributes(ext: Extractor, mro, members: dict[str, Member]) -> dict[str, InstanceAttribute]:
    """The attributes the methods of the MRO's classes assign on `self`: where first, in which
    methods, whether in `__init__`, and the annotation given. An instance attribute that is also
    a class-body member stays a member; both are recorded."""
    owners = {path: node for path, node in mro if node is not None}
    assigns = ext.analyze(members, owners)
    attrs: dict[str, InstanceAttribute] = {}
    for path, node in mro:
        if node is None:
            continue
        for method, (lines, annots) in sorted(assigns.get(path, {}).items()):
            for attr, attr_line in sorted(lines.items()):
                vis = visibility_of(attr)
                if vis is None:
                    continue
                entry = attrs.setdefault(attr, InstanceAttribute(name=attr, visibility=vis))
                entry.assigned_in = sorted(set(entry.assigned_in) | {f"{node.name}.{method}"})
                if method == "__init__":
                    entry.in_init = True
                if attr in annots and entry.annotation is None:
                    entry.annotation = annots[attr]
                if not entry.location:
                    entry.location = ext.location(node, attr_line)
    return attrs


def _class_info(ext: Extractor, obj: griffe.Class, mro) -> ClassInfo:
    return ClassInfo(
        path=obj.path,
        module=obj.module.path,
        qualname=obj.path[len(obj.module.path) + 1 :],
        # the `class` statement, not the first decorator (`@public`) above it that griffe counts
        # from: a cause at the class points a reviewer at the line the diff shows for it
        location=ext.location(obj, ext.class_ast(obj).lineno),
        bases=[p for p, _ in ext.base_paths(obj)],
        mro=[p for p, _ in mro],
        metaclass=ext.metaclass(mro),
        slots=ext.slots(obj),
        decorators=[str(d.value) for d in obj.decorators],
    )


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# --- content-keyed cache ---------------------------------------------------------------------
def _cache_root() -> Path:
    return cache_dir() / "surfaces"


def _extractor_digest() -> str:
    """Hash of the extractor's own code: a changed extractor never reuses an old surface."""

    h = hashlib.sha256()
    for module in (sys.modules[__name__], bodies, loader, annotations, model):
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()


def _cache_index(target: str, search_paths: list[str], source: str) -> Path:
    key = hashlib.sha256("\0".join([_extractor_digest(), _version("griffe"), target, source, *search_paths]).encode())
    return _cache_root() / f"{key.hexdigest()[:24]}.json"


def _cached(index: Path, search_paths: list[str]) -> Surface | None:
    try:
        data = jsonio.read_json(index, schema="compat.surface-cache", versions=(1,))
    except CompatError:
        return None
    files, cached = data.get("files"), data.get("surface")
    if not isinstance(files, dict) or not isinstance(cached, dict):
        return None  # a damaged cache entry is a miss, and is rewritten
    loader = StaticLoader(search_paths)
    for module, digest in files.items():
        found = loader.find(module)
        if found is None:
            return None
        try:
            content = found[0].read_bytes()
        except OSError:
            return None
        if hashlib.sha256(content).hexdigest() != digest:
            return None
    try:
        schemas.check_surface(cached, index)
        return Surface.from_dict(cached)
    except (CompatError, TypeError, KeyError, AttributeError):
        return None


def snapshot(
    target: str = DEFAULT_TARGET,
    search_paths: list[str] | None = None,
    *,
    source: str = "installed",
    use_cache: bool = True,
) -> Surface:
    """The surface of `target`, reusing a cached one when no source file it read has changed."""
    paths = list(search_paths) if search_paths is not None else installed_search_paths()
    index = _cache_index(target, paths, source)
    if use_cache:
        hit = _cached(index, paths)
        if hit is not None:
            return hit
    surface, loader = extract(target, paths, source=source)
    if use_cache:
        try:
            jsonio.write_json(
                index,
                {"schema": "compat.surface-cache", "schema_version": 1, "files": loader.digest(), "surface": surface.to_dict()},
            )
        except (OSError, CompatError):
            pass  # a read-only or full cache only costs speed
    return surface


def side_surface(side, target: str, *, use_cache: bool = True):
    """The surface of `target` as `side` (a :class:`compat.sides.Side`) has it: read from its
    sources, cached by their digest. A side knows where its code is; reading it is the extractor's."""
    return snapshot(target, side.search_paths, source=side.source, use_cache=use_cache)


def from_sources(files: dict[str, str], target: str) -> Surface:
    """Surface of a toy package given as {relative path: source}; for fixtures and tests."""
    with tempfile.TemporaryDirectory(prefix="compat-src-") as tmp:
        for rel, text in files.items():
            path = Path(tmp, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        surface, _ = extract(target, [tmp], source="sources")
        return surface


def write_surface(surface: Surface, path: str | os.PathLike[str]) -> Path:
    return jsonio.write_json(path, surface.to_dict())


def read_surface(path: str | os.PathLike[str]) -> Surface:
    data = jsonio.read_json(path, schema=SURFACE_SCHEMA, versions=(SURFACE_VERSION,))
    schemas.check_surface(data, path)
    try:
        return Surface.from_dict(data)
    except (TypeError, KeyError, AttributeError) as exc:
        raise CompatError(f"{path}: malformed surface snapshot ({exc}); re-record it") from None

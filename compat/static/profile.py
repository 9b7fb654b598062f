"""Profiles: what a real subclass package uses of the target, read statically.

A profile records, for every subclass of the target found in a package (direct or through
another subclass of the package), the contract it has with the base class:

- the members it overrides, with its own signature and the base signature it overrides, and
  which base methods reach the overridden member through ``self`` (the hook contract);
- the names it creates itself (methods, properties, class attributes, ``self.<x>`` instance
  attributes), which the base must never start defining or assigning;
- the base members and instance attributes it uses through ``self`` (and through the base
  class by name, ``DagsterInstance.get()``);
- its ``super().<x>`` calls and the class of the MRO each one lands on;
- how its ``__init__`` forwards to the base (``*args``/``**kwargs``, added keyword-only
  parameters, keywords it passes itself) and the base ``__init__`` it forwarded to;
- the class-level hooks dagster calls on a custom instance class (``config_schema``,
  ``config_defaults``, ``get``, ...) that it defines.

Nothing of the package is imported or executed: the package's own runtime dependencies need
not be installed. The target's package (dagster) is read from the given search paths to
resolve base classes and to know the base surface at profiling time.
"""

from __future__ import annotations

import ast
import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path

import griffe

from compat.envs import interpreter_paths, wheel_tree
from compat.model.errors import CompatError
from compat.model.surface import (
    CLASS_ATTRIBUTE,
    CLASSMETHOD,
    KEYWORD_ONLY,
    METHOD,
    POSITIONAL_OR_KEYWORD,
    STATICMETHOD,
    Member,
    Surface,
    visibility_of,
)
from compat.static.bodies import _BodyRefs, _self_name
from compat.static.extract import (
    DEFAULT_TARGET,
    Extractor,
    _version,
    installed_search_paths,
    parse_target,
    snapshot,
)
from compat.static.loader import StaticLoader
from compat.model.profile import (
    BaseUse,
    CLASS_HOOKS,
    CallShape,
    Constructor,
    Hook,
    NewAttribute,
    Override,
    OwnMember,
    Profile,
    SubclassProfile,
    SuperCall,
    _OBJECT_NAMES,
    _clean,
)

# --- locating the package --------------------------------------------------------------------
@dataclass
class Source:
    label: str  # package name as the user sees it
    root: Path  # search path that holds the modules
    modules: list[str]  # dotted names of every module to scan
    version: str | None
    fetched: bool = False  # unpacked from a NAME==VERSION wheel


def _pinned(root: Path, name: str, dependency: str) -> str | None:
    """The exact version `name`'s wheel metadata pins `dependency` to (`dagster==X`), if any."""
    want = _norm(dependency)
    for meta in sorted(root.glob("*.dist-info")):
        if _norm(meta.name.rsplit(".", 1)[0].rpartition("-")[0]) != _norm(name):
            continue
        try:
            text = (meta / "METADATA").read_text(encoding="utf-8")
        except OSError:
            return None
        for line in text.splitlines():
            m = re.match(r"^Requires-Dist:\s*([A-Za-z0-9._-]+)\s*\(?\s*==\s*([^\s;,)]+)\s*\)?\s*$", line)
            if m and _norm(m.group(1)) == want:
                return m.group(2)
    return None


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _dist_version(root: Path, name: str) -> str | None:
    want = _norm(name)
    for meta in sorted(root.glob("*.dist-info")) + sorted(root.glob("*.egg-info")):
        stem = meta.name.rsplit(".", 1)[0]
        dist, _, version = stem.rpartition("-")
        if _norm(dist) == want and version:
            return version
    return None


def _modules_under(root: Path, package_dir: Path) -> list[str]:
    """Dotted names of every .py module in a package directory (sorted)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(package_dir):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and (Path(dirpath, d) / "__init__.py").is_file())
        for fname in sorted(filenames):
            if not fname.endswith(".py"):
                continue
            rel = Path(dirpath, fname).relative_to(root).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if all(p.isidentifier() for p in parts):
                out.append(".".join(parts))
    return sorted(out)


def _tree_packages(root: Path) -> list[Path]:
    pkgs = sorted(p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file() and p.name.isidentifier())
    return pkgs


def _locate(spec: str, python: str | None) -> Source:
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)\s*$", spec)
    if m:
        name, version = m.group(1), m.group(2)
        root = wheel_tree(version, package=name)
        pkgs = _tree_packages(root)
        if not pkgs:
            raise CompatError(f"{spec}: the wheel holds no python package")
        mods = [mod for p in pkgs for mod in _modules_under(root, p)]
        return Source(name, root, mods, _dist_version(root, name) or version, fetched=True)
    path = Path(spec).expanduser()
    if path.is_dir():
        path = path.resolve()
        if (path / "__init__.py").is_file():
            # a package directory: its import root is above the outermost package
            root = path.parent
            while (root / "__init__.py").is_file():
                root = root.parent
            return Source(".".join(path.relative_to(root).parts), root, _modules_under(root, path), None)
        for root in (path, path / "src"):
            if root.is_dir() and _tree_packages(root):
                pkgs = _tree_packages(root)
                mods = [mod for p in pkgs for mod in _modules_under(root, p)]
                version = None
                for p in pkgs:
                    version = version or _dist_version(root, p.name)
                return Source(path.name, root, mods, version)
        raise CompatError(f"{spec}: directory holds no python package (no */__init__.py)")
    if path.suffix == ".py" and path.is_file():
        path = path.resolve()
        return Source(path.stem, path.parent, [path.stem], None)
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", spec):
        raise CompatError(f"{spec}: not a package name, a directory or NAME==VERSION")
    paths = _interpreter_paths(python)
    candidates = [spec, spec.replace("-", "_"), _norm(spec)]
    for root in map(Path, paths):
        for cand in candidates:
            pkg = root.joinpath(*cand.split("."))
            if (pkg / "__init__.py").is_file():
                top = root / cand.split(".")[0]
                mods = _modules_under(root, pkg)
                return Source(spec, root, mods, _dist_version(root, spec) or _dist_version(root, top.name))
            if pkg.with_suffix(".py").is_file() and "." not in cand:
                return Source(spec, root, [cand], _dist_version(root, spec))
    where = f"the sys.path of {python}" if python else "this interpreter's sys.path"
    raise CompatError(f"{spec}: package not found in {where} (give a directory or NAME==VERSION instead)")


def _interpreter_paths(python: str | None) -> list[str]:
    if python:
        return interpreter_paths(python)
    return installed_search_paths()


# --- profiling -------------------------------------------------------------------------------
def _defined_class_nodes(mod: griffe.Module) -> list[griffe.Class]:
    out = []
    for obj in mod.members.values():
        if isinstance(obj, griffe.Alias) or not isinstance(obj, griffe.Class):
            continue
        out.append(obj)
        out.extend(o for o in obj.members.values() if not isinstance(o, griffe.Alias) and isinstance(o, griffe.Class))
    return out


def built_by_instance_factory(surface: Surface) -> bool:
    """Whether dagster's instance factory builds the class: a DagsterInstance or a subclass, but
    not another dagster class (a storage, a launcher, a resource is built by its own code). A
    class outside dagster (a toy base) is read the strict way, as the factory would build it."""
    if not surface.cls.path.startswith("dagster."):
        return True
    return any(p.startswith("dagster.") and p.rsplit(".", 1)[-1] == "DagsterInstance"
               for p in [surface.cls.path, *surface.cls.mro])


class Profiler:
    def __init__(self, source: Source, target: str, dagster_paths: list[str], base: Surface, *,
                 instance_factory: bool = True):
        self.source = source
        self.instance_factory = instance_factory
        self.target = target
        self.base = base
        paths = [str(source.root)] + [p for p in dagster_paths if Path(p).resolve() != source.root]
        self.loader = StaticLoader(paths)
        self.ext = Extractor(self.loader)
        module, qualname = parse_target(target)
        obj = self.loader.resolve(f"{module}.{qualname}")
        if not isinstance(obj, griffe.Class):
            raise CompatError(f"--target {target}: not found under the dagster search paths")
        self.target_path = obj.path
        self._own: dict[str, dict[str, Member]] = {}
        # every class of the target's own MRO counts as "the base"
        self.base_classes = set(base.cls.mro) | {self.target_path}

    def retarget(self, target: str, base: Surface, *, instance_factory: bool = True) -> Profiler:
        """The same package against another base, sharing the loaded files (each parsed once)."""
        other = copy.copy(self)
        module, qualname = parse_target(target)
        obj = self.loader.resolve(f"{module}.{qualname}")
        if not isinstance(obj, griffe.Class):
            raise CompatError(f"--target {target}: not found under the dagster search paths")
        other.target, other.base, other.instance_factory = target, base, instance_factory
        other.target_path = obj.path
        other.base_classes = set(base.cls.mro) | {obj.path}
        other.__dict__.pop("_shapes", None)
        return other

    def shapes(self) -> dict[str, list[CallShape]]:
        if not hasattr(self, "_shapes"):
            target = self.loader.resolve(self.target_path)
            self._shapes = base_call_shapes(Extractor(self.loader), target) if isinstance(target, griffe.Class) else {}
        return self._shapes

    def own_members(self, node: griffe.Class) -> dict[str, Member]:
        if node.path not in self._own:
            self._own[node.path] = self.ext.class_members(node)
        return self._own[node.path]

    def find(self) -> list[tuple[griffe.Class, list[tuple[str, griffe.Class | None]]]]:
        found = []
        for modname in self.source.modules:
            if self.loader.find(modname) is None:
                continue
            try:
                mod = self.loader.module(modname)
            except CompatError:
                continue  # an unparsable file cannot define a subclass we could profile
            if mod is None:
                continue
            for cls in _defined_class_nodes(mod):
                if not cls.bases or cls.path == self.target_path:
                    continue
                try:
                    mro = self.ext.mro(cls)
                except Exception:  # unresolvable or cyclic bases: not something we can profile
                    continue
                if any(p == self.target_path for p, _ in mro[1:]):
                    found.append((cls, mro))
        return sorted(found, key=lambda t: t[0].path)

    def profile(self) -> dict[str, SubclassProfile]:
        found = self.find()
        paths = {cls.path for cls, _ in found}
        out = {}
        for cls, mro in found:
            out[cls.path] = self.subclass(cls, mro, paths)
        return out

    def subclass(self, cls: griffe.Class, mro, package_paths: set[str]) -> SubclassProfile:
        """What `cls` defines, what of the base it uses, and how it calls up and is built."""
        own = self.own_members(cls)
        self.ext.analyze(own, {cls.path: cls})
        package_bases = [p for p, _ in mro[1:] if p in package_paths]
        own_attrs = self._assigned(cls, own)
        inherited_names, other_names = self._names_between(mro, package_paths, cls.path)
        called_by = self._callers()
        init_reach = reached_from(self.base, "__init__")

        sub = SubclassProfile(
            path=cls.path, module=cls.module.path, name=cls.name,
            location=self.ext.location(cls, cls.lineno or 0),
            bases=[p for p, _ in self.ext.base_paths(cls)], mro=[p for p, _ in mro],
            package_bases=package_bases,
        )
        self._own_definitions(sub, own, own_attrs, inherited_names, called_by, init_reach)
        self._base_uses(sub, cls, own, own_attrs, inherited_names, other_names)

        # super() calls
        after = [(p, n) for p, n in mro[1:]]
        for mname, m in sorted(own.items()):
            for target in m.super_calls:
                sub.super_calls.append(self._super_call(mname, target, after, package_paths))
        sub.constructor = self._constructor(cls, own, mro, package_paths)
        if self.instance_factory:  # InstanceRef.from_dir turns config_schema() keys into keywords
            self._config_keys(sub.constructor, cls, mro, package_paths)
        return sub

    def _names_between(self, mro, package_paths: set[str], path: str) -> tuple[set[str], set[str]]:
        """The names the subclass at `path` gets from classes between it and the base: from the
        package's own classes (their members and the attributes they assign), and from the
        others, neither the package's nor the base's (mixins). Neither is a use of the base."""
        # names the subclass gets from the package classes between it and the base
        chain_nodes = [n for p, n in mro if n is not None and (p == path or p in package_paths)]
        inherited_names: set[str] = set()
        for node in chain_nodes[1:]:
            pm = self.own_members(node)
            inherited_names |= set(pm)
            self.ext.analyze(pm, {node.path: node})
            inherited_names |= set(self._assigned(node, pm))
        # names in classes of the MRO that are neither the package's nor the base's (mixins)
        other_names: set[str] = set()
        for p, n in mro[1:]:
            if n is not None and p not in package_paths and p not in self.base_classes and p != self.target_path:
                other_names |= set(self.own_members(n))
        return inherited_names, other_names

    def _own_definitions(self, sub: SubclassProfile, own: dict[str, Member], own_attrs, inherited_names: set[str],
                         called_by: dict[str, set[str]], init_reach) -> None:
        """What the subclass defines itself: the class hooks the instance factory calls, the
        overrides of base members (with how the base calls them), its new members, and the
        attributes it assigns that neither the base nor a class between has."""
        base = self.base
        for name, m in sorted(own.items()):
            if m.visibility == "private":
                continue
            bm = base.members.get(name)
            hook = name in CLASS_HOOKS and self.instance_factory
            if hook:
                sub.hooks[name] = Hook(
                    name=name, kind=m.kind, signature=_clean(m.signature), called_as=CLASS_HOOKS[name],
                    base_kind=bm.kind if bm else None, base_signature=_clean(bm.signature) if bm else None,
                )
            if bm is not None:
                sub.overrides[name] = Override(
                    name=name, kind=m.kind, location=m.location, signature=_clean(m.signature),
                    base_kind=bm.kind, base_signature=_clean(bm.signature), base_defined_in=bm.defined_in,
                    base_location=bm.location, called_by=sorted(called_by.get(name, ())),
                    super_calls=list(m.super_calls), call_shapes=self.shapes().get(name, []),
                    base_assigns=list(bm.assigns),
                    reached_from_init=name in init_reach,
                    own_state=self._own_state(name, own, own_attrs),
                )
            elif not hook:
                sub.new_members[name] = OwnMember(
                    name=name, kind=m.kind, location=m.location,
                    signature=_clean(m.signature) if m.kind != CLASS_ATTRIBUTE else None,
                    value=m.value, setter=m.setter,
                )
        for attr, (methods, loc) in sorted(own_attrs.items()):
            if attr in base.members or attr in base.instance_attributes or attr in own or attr in inherited_names:
                continue
            sub.new_attributes[attr] = NewAttribute(name=attr, assigned_in=sorted(methods), location=loc)

    def _base_uses(self, sub: SubclassProfile, cls: griffe.Class, own: dict[str, Member], own_attrs,
                   inherited_names: set[str], other_names: set[str]) -> None:
        """The base's members and attributes the subclass's methods read, call, write or reach
        through the class, each with the methods that do; a name found nowhere is unresolved."""
        base = self.base
        # uses of names it does not define itself
        constructed = self._constructed_attributes()
        # an attribute the subclass assigns that the base also assigns stays a base attribute:
        # its reads are recorded, since the two share the slot
        base_names = set(base.members) | set(base.instance_attributes)
        defined_here = set(own) | (set(own_attrs) - base_names) | inherited_names | other_names
        unresolved = set()
        for mname, m in sorted(own.items()):
            reads = set(m.self_refs) - set(m.self_calls)
            uses = [("reads", reads), ("calls", set(m.self_calls)), ("writes", set(m.assigns))]
            for how, names in uses:
                for ref in sorted(names):
                    if ref in _OBJECT_NAMES or visibility_of(ref) is None:
                        continue
                    if how != "writes" and ref in defined_here:
                        continue
                    if how == "writes" and (ref in own or ref in inherited_names or ref in other_names or ref in sub.new_attributes):
                        continue
                    use = self._base_use(sub, ref, constructed)
                    if use is None:
                        if how != "writes":
                            unresolved.add(ref)
                        continue
                    getattr(use, how).append(mname)
        for mname, ref in self._by_class_refs(cls, own):
            if ref in base.members:
                use = self._base_use(sub, ref, constructed)
                if use is not None:
                    use.by_class.append(mname)
        for uses in (sub.base_members, sub.base_attributes):
            for use in uses.values():
                for lst in (use.reads, use.calls, use.writes, use.by_class):
                    lst[:] = sorted(set(lst))
        sub.base_members = dict(sorted(sub.base_members.items()))
        sub.base_attributes = dict(sorted(sub.base_attributes.items()))
        sub.unresolved_refs = sorted(unresolved)

    def _base_use(self, sub: SubclassProfile, ref: str, constructed: set[str]) -> BaseUse | None:
        base = self.base
        if ref in base.members:
            m = base.members[ref]
            return sub.base_members.setdefault(ref, BaseUse(name=ref, base_kind=m.kind, base_defined_in=m.defined_in))
        if ref in base.instance_attributes:
            a = base.instance_attributes[ref]
            return sub.base_attributes.setdefault(ref, BaseUse(
                name=ref, base_kind="instance_attribute", base_defined_in=a.assigned_in[0] if a.assigned_in else "",
                constructed=ref in constructed, base_assigned_in=list(a.assigned_in),
            ))
        return None

    def _assigned(self, cls: griffe.Class, own: dict[str, Member]) -> dict[str, tuple[set[str], str]]:
        """{attr: (own methods assigning self.<attr>, first location)} for one class body."""
        out: dict[str, tuple[set[str], str]] = {}
        node_lines: dict[str, int] = {}
        for (cpath, mname), fns in sorted(self.ext.bodies.items(), key=lambda kv: kv[0]):
            if cpath != cls.path or mname not in own:
                continue
            for fn, kind in fns:
                scan = _BodyRefs(_self_name(fn, kind)).scan(fn)
                for attr, line in scan.assigns.items():
                    if visibility_of(attr) is None:
                        continue
                    methods, loc = out.get(attr, (set(), ""))
                    methods.add(mname)
                    if attr not in node_lines or line < node_lines[attr]:
                        node_lines[attr] = line
                        loc = self.ext.location(cls, line)
                    out[attr] = (methods, loc)
        return out

    def _own_state(self, name: str, own: dict[str, Member], own_attrs) -> list[str]:
        """Attributes the subclass assigns itself that `name` reads, through its own members."""
        seen: set[str] = set()
        todo = [name]
        state: set[str] = set()
        while todo:
            cur = todo.pop()
            if cur in seen or cur not in own:
                continue
            seen.add(cur)
            for ref in own[cur].self_refs:
                if ref in own_attrs and ref not in self.base.instance_attributes:
                    state.add(ref)
                elif ref in own:
                    todo.append(ref)
        return sorted(state)

    def _callers(self) -> dict[str, set[str]]:
        """{member: base members whose bodies reach it through self}."""
        out: dict[str, set[str]] = {}
        for name, m in self.base.members.items():
            for ref in set(m.self_refs) | set(m.self_calls):
                if ref != name:
                    out.setdefault(ref, set()).add(name)
        return out

    def _constructed_attributes(self) -> set[str]:
        return constructed_attributes(self.base)

    def _by_class_refs(self, cls: griffe.Class, own: dict[str, Member]) -> list[tuple[str, str]]:
        """(own method, name) for `Base.name` uses where Base resolves to the target or its MRO."""
        out = []
        mod = cls.module
        for (cpath, mname), fns in sorted(self.ext.bodies.items(), key=lambda kv: kv[0]):
            if cpath != cls.path or mname not in own:
                continue
            for fn, _kind in fns:
                for node in ast.walk(fn):
                    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                        local = node.value.id
                        obj = mod.members.get(local)
                        if obj is None:
                            continue
                        target = obj.target_path if isinstance(obj, griffe.Alias) else obj.path
                        resolved = self.loader.resolve(target)
                        if resolved is not None and resolved.path in self.base_classes:
                            out.append((mname, node.attr))
        return sorted(set(out))

    def _super_call(self, method: str, name: str, after, package_paths: set[str]) -> SuperCall:
        for path, node in after:
            if node is None:
                continue
            if path in package_paths:
                if name in self.own_members(node):
                    return SuperCall(method, name, path, in_package=True)
                continue
            if path in self.base_classes:
                m = self.base.members.get(name)
                if m is not None:
                    return SuperCall(method, name, m.defined_in)
                continue  # a class after the base's own (multiple inheritance) may define it
            if name in self.own_members(node):
                return SuperCall(method, name, path, beside_base=True)
        if name in ("__init__", "__init_subclass__", "__setattr__", "__getattribute__", "__repr__", "__eq__", "__hash__"):
            return SuperCall(method, name, "builtins.object")
        return SuperCall(method, name, None)

    def _constructor(self, cls, own: dict[str, Member], mro, package_paths: set[str]) -> Constructor:
        base_init = self.base.members.get("__init__")
        base_sig = _clean(base_init.signature) if base_init else None
        init = own.get("__init__")
        if init is None:
            defined_in = None
            for p, n in mro[1:]:
                if n is not None and p in package_paths and "__init__" in self.own_members(n):
                    defined_in = p
                    break
            if defined_in is None and base_init is not None:
                defined_in = base_init.defined_in
            return Constructor(defined=False, defined_in=defined_in, base_signature=base_sig)
        sig = _clean(init.signature)
        c = Constructor(defined=True, defined_in=cls.path, signature=sig, base_signature=base_sig)
        if sig is not None:
            c.keyword_only = [p.name for p in sig.parameters if p.kind == KEYWORD_ONLY]
            c.required_keyword_only = [p.name for p in sig.parameters if p.kind == KEYWORD_ONLY and p.required]
        fns = self.ext.bodies.get((cls.path, "__init__"), [])
        if fns:
            fn, _ = fns[0]
            for node in ast.walk(fn):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
                    continue
                v = node.func.value
                is_super = isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "super"
                by_name = isinstance(v, ast.Name) and self._resolves_to_base(cls, v.id)
                if not (is_super or by_name):
                    continue
                c.calls_super_init = True
                args = node.args[1:] if by_name else node.args  # Base.__init__(self, ...)
                for a in args:
                    if isinstance(a, ast.Starred):
                        c.forwards_args = True
                    else:
                        c.passes_positional += 1
                for kw in node.keywords:
                    if kw.arg is None:
                        c.forwards_kwargs = True
                    else:
                        c.passes_keywords.append(kw.arg)
            c.passes_keywords = sorted(set(c.passes_keywords))
        return c

    def _config_keys(self, c: Constructor, cls: griffe.Class, mro, package_paths: set[str]) -> None:
        """The yaml keys dagster turns into constructor keywords, and which reach the base.

        Read from the string keys of the dict literals `config_schema()` returns (its own, else
        the nearest package base's)."""
        owner = None
        for p, n in mro:
            if n is not None and (p == cls.path or p in package_paths) and "config_schema" in self.own_members(n):
                owner = n
                break
        if owner is None:
            return
        fns = self.ext.bodies.get((owner.path, "config_schema"), [])
        keys: set[str] = set()
        for fn, _kind in fns:
            for value in (n.value for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None):
                if isinstance(value, ast.Dict):
                    keys |= {k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        c.config_keys = sorted(keys)
        if c.defined:
            own = {p.name for p in (c.signature.parameters if c.signature else []) if p.kind in (POSITIONAL_OR_KEYWORD, KEYWORD_ONLY)}
            c.forwarded_config_keys = sorted(k for k in keys if k not in own) if c.forwards_kwargs else []
        elif c.defined_in == self.base.members.get("__init__", Member("", "", "", "", "")).defined_in:
            c.forwarded_config_keys = sorted(keys)

    def _resolves_to_base(self, cls: griffe.Class, local: str) -> bool:
        obj = cls.module.members.get(local)
        if obj is None:
            return False
        target = obj.target_path if isinstance(obj, griffe.Alias) else obj.path
        resolved = self.loader.resolve(target)
        return resolved is not None and resolved.path in self.base_classes


def base_call_shapes(ext: Extractor, target: griffe.Class) -> dict[str, list[CallShape]]:
    """{method: every `self.method(...)` call shape in the bodies of the target's members}.

    Calls through a self-alias property (`self._instance.method(...)` in dagster's mixins) count
    as calls through self.
    """
    members: dict[str, Member] = {}
    for _path, node in reversed(ext.mro(target)):
        if node is not None:
            members.update({k: v for k, v in ext.class_members(node).items() if v.visibility != "private"})
    aliases = ext.self_aliases(members)
    out: dict[str, dict[tuple, CallShape]] = {}
    for mname, m in members.items():
        for fn, kind in ext.bodies.get((m.defined_in, mname), []):
            self_name = _self_name(fn, kind)
            if self_name is None:
                continue
            for node in ast.walk(fn):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                v = node.func.value
                through_self = (isinstance(v, ast.Name) and v.id == self_name) or (
                    isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name) and v.value.id == self_name
                    and v.attr in aliases)
                if not through_self:
                    continue
                shape = CallShape(
                    caller=mname,
                    positional=sum(1 for a in node.args if not isinstance(a, ast.Starred)),
                    keywords=sorted(k.arg for k in node.keywords if k.arg is not None),
                    star_args=any(isinstance(a, ast.Starred) for a in node.args),
                    star_kwargs=any(k.arg is None for k in node.keywords),
                )
                out.setdefault(node.func.attr, {})[shape.key()] = shape
    return {name: [shapes[k] for k in sorted(shapes)] for name, shapes in sorted(out.items())}


def reached_from(surface: Surface, start: str) -> set[str]:
    """Members a member reaches through self, transitively over the surface's members."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        m = surface.members.get(name)
        if m is not None:
            todo.extend(r for r in set(m.self_refs) | set(m.self_calls) if r in surface.members and r not in seen)
    seen.discard(start)
    return seen


def construction_methods(surface: Surface) -> set[str]:
    """`__init__` and every method it reaches through self-calls, transitively."""
    reach: set[str] = set()
    todo = ["__init__"]
    while todo:
        name = todo.pop()
        if name in reach:
            continue
        reach.add(name)
        m = surface.members.get(name)
        if m is None or m.kind not in (METHOD, CLASSMETHOD, STATICMETHOD):
            continue
        todo.extend(c for c in m.self_calls if c in surface.members and c not in reach)
    return reach


def constructed_attributes(surface: Surface) -> set[str]:
    """Instance attributes assigned while the base __init__ runs: in __init__ itself or in a
    method __init__ reaches through self-calls (transitively)."""
    reach = construction_methods(surface)
    out = set()
    for attr, a in surface.instance_attributes.items():
        if a.in_init:
            out.add(attr)
            continue
        methods = {x.rsplit(".", 1)[-1] for x in a.assigned_in}
        if methods & reach:
            out.add(attr)
    return out


def profile_source(
    package_or_path: str,
    *,
    target: str = DEFAULT_TARGET,
    python: str | None = None,
    dagster_paths: list[str] | None = None,
) -> Profile:
    """Profile every subclass of `target` in a package, a directory or a fetched NAME==VERSION.

    The target's own package is read from `dagster_paths`; by default from `python`'s sys.path
    (or this interpreter's), except for a fetched NAME==VERSION whose wheel pins the target's
    distribution to one release: that release's wheel is used.
    """
    target = target or DEFAULT_TARGET
    parse_target(target)
    source = _locate(package_or_path, python)
    if dagster_paths is not None:
        paths = list(dagster_paths)
    elif source.fetched and python is None and _pinned(source.root, source.label, target.split(".", 1)[0].split(":", 1)[0]):
        # a fetched wheel that pins the target's distribution (dagster-cloud==X pins dagster==X):
        # read it against that release, not whatever happens to be installed here

        pin = _pinned(source.root, source.label, target.split(".", 1)[0].split(":", 1)[0])
        paths = [str(wheel_tree(pin))]
    else:
        paths = _interpreter_paths(python)
    base = snapshot(target, paths)
    prof = Profiler(source, target, paths, base, instance_factory=built_by_instance_factory(base))
    subclasses = prof.profile()
    if not subclasses:
        raise CompatError(f"{package_or_path}: no subclass of {target} found in package {source.label}")
    return Profile(
        package=source.label,
        version=source.version,
        target=target,
        target_path=prof.target_path,
        base_version=base.generator.get("dagster", "unknown"),
        subclasses=subclasses,
        generator={"compat": _version("compat"), "griffe": _version("griffe")},
        instance_factory=None if prof.instance_factory else False,
    )

"""The surface: a static, serializable model of a target class flattened over its MRO.

Data models serialize themselves (``to_dict`` / ``from_dict``) into canonical JSON so that the
same inputs always give byte-identical snapshots.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

SURFACE_SCHEMA = "compat.surface"
SURFACE_VERSION = 1

# member kinds
METHOD = "method"
PROPERTY = "property"
CACHED_PROPERTY = "cached_property"
CLASSMETHOD = "classmethod"
STATICMETHOD = "staticmethod"
CLASS_ATTRIBUTE = "class_attribute"
KINDS = (METHOD, PROPERTY, CACHED_PROPERTY, CLASSMETHOD, STATICMETHOD, CLASS_ATTRIBUTE)

# visibilities
PUBLIC = "public"
PROTECTED = "protected"
DUNDER = "dunder"

# parameter kinds, in the order Python requires them
POSITIONAL_ONLY = "positional-only"
POSITIONAL_OR_KEYWORD = "positional-or-keyword"
VAR_POSITIONAL = "var-positional"
KEYWORD_ONLY = "keyword-only"
VAR_KEYWORD = "var-keyword"


def visibility_of(name: str) -> str | None:
    """public, protected (_x) or dunder (__x__); None for name-mangled privates (__x)."""
    if name.startswith("__") and name.endswith("__"):
        return DUNDER
    if name.startswith("__"):
        return None
    if name.startswith("_"):
        return PROTECTED
    return PUBLIC


class _Model:
    """Self-serializing dataclass mixin: nested models and lists of models round-trip."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        kwargs = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                continue
            value = data[f.name]
            sub = _NESTED.get((cls.__name__, f.name))
            if sub is not None and value is not None:
                if isinstance(value, list):
                    value = [sub.from_dict(v) for v in value]
                elif isinstance(value, dict) and _NESTED_IS_MAP.get((cls.__name__, f.name)):
                    value = {k: sub.from_dict(v) for k, v in value.items()}
                else:
                    value = sub.from_dict(value)
            kwargs[f.name] = value
        return cls(**kwargs)


@dataclass
class Parameter(_Model):
    name: str
    kind: str
    default: str | None = None  # source text of the default, None when required
    annotation: str | None = None  # as written
    annotation_norm: str | None = None  # normalized for comparison

    @property
    def required(self) -> bool:
        return self.default is None and self.kind not in (VAR_POSITIONAL, VAR_KEYWORD)

    def render(self) -> str:
        prefix = {VAR_POSITIONAL: "*", VAR_KEYWORD: "**"}.get(self.kind, "")
        text = prefix + self.name
        if self.annotation:
            text += f": {self.annotation}"
        if self.default is not None:
            text += f" = {self.default}" if self.annotation else f"={self.default}"
        return text


@dataclass
class Signature(_Model):
    parameters: list[Parameter] = field(default_factory=list)
    returns: str | None = None
    returns_norm: str | None = None

    def render(self, name: str = "", *, multiline: bool = False) -> str:
        """`name(a, *, b=1) -> R`; ``multiline`` puts one parameter per line, so that a line diff
        of two signatures shows exactly the parameters that changed."""
        parts = self._parts()
        if multiline and len(parts) > 1:
            text = f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + ")"
        else:
            text = f"{name}({', '.join(parts)})"
        if self.returns:
            text += f" -> {self.returns}"
        return text

    def _parts(self) -> list[str]:
        parts: list[str] = []
        seen_kwonly_marker = False
        prev_kind = None
        for p in self.parameters:
            if p.kind == KEYWORD_ONLY and not seen_kwonly_marker and prev_kind not in (VAR_POSITIONAL,):
                parts.append("*")
            if p.kind in (KEYWORD_ONLY, VAR_POSITIONAL):
                seen_kwonly_marker = True
            if prev_kind == POSITIONAL_ONLY and p.kind != POSITIONAL_ONLY:
                parts.append("/")
            parts.append(p.render())
            prev_kind = p.kind
        if prev_kind == POSITIONAL_ONLY:
            parts.append("/")
        return parts

    def param(self, name: str) -> Parameter | None:
        for p in self.parameters:
            if p.name == name:
                return p
        return None


@dataclass
class Member(_Model):
    name: str
    kind: str
    visibility: str
    defined_in: str  # dotted path of the class in the MRO that defines it
    location: str  # "relative/path.py:LINE"
    signature: Signature | None = None  # methods, properties (getter), class/staticmethods
    decorators: list[str] = field(default_factory=list)  # rendered decorator expressions
    labels: list[str] = field(default_factory=list)  # griffe labels, sorted
    public_api: bool = False  # carries dagster's @public
    deprecated: str | None = None  # deprecation message/marker, None if not deprecated
    abstract: bool = False
    setter: bool = False
    deleter: bool = False
    value: str | None = None  # class attributes: source text of the value
    annotation: str | None = None  # class attributes
    annotation_norm: str | None = None
    self_refs: list[str] = field(default_factory=list)  # self.<name> read or called in the body
    self_calls: list[str] = field(default_factory=list)  # self.<name>(...) calls in the body
    super_calls: list[str] = field(default_factory=list)  # super().<name> in the body
    assigns: list[str] = field(default_factory=list)  # self.<name> = ... in the body
    # helper methods the body reaches through a delegate property (`self._run_domain.create_run`);
    # their uses of the instance are included in self_refs/self_calls
    delegates: list[str] = field(default_factory=list)
    # classes further along the MRO that define the name too (their definitions are overridden);
    # None in surfaces recorded before this was recorded: unknown
    shadowed: list[str] | None = None

    def render(self, *, multiline: bool = False) -> str:
        """The member as a reviewer would write it: one line, or one parameter per line."""
        if self.kind == CLASS_ATTRIBUTE:
            text = self.name
            if self.annotation:
                text += f": {self.annotation}"
            if self.value is not None:
                text += f" = {self.value}"
            return text
        sig = self.signature.render(self.name, multiline=multiline) if self.signature else f"{self.name}(...)"
        prefix = {
            PROPERTY: "@property ",
            CACHED_PROPERTY: "@cached_property ",
            CLASSMETHOD: "@classmethod ",
            STATICMETHOD: "@staticmethod ",
        }.get(self.kind, "")
        return f"{prefix}def {sig}"


@dataclass
class InstanceAttribute(_Model):
    """An attribute assigned through ``self.<name> = ...`` somewhere in the class's methods."""

    name: str
    visibility: str
    assigned_in: list[str] = field(default_factory=list)  # "Class.method" where assigned, sorted
    in_init: bool = False  # assigned (directly) in __init__
    annotation: str | None = None
    location: str = ""  # first assignment "path.py:LINE"


@dataclass
class ClassInfo(_Model):
    path: str  # canonical dotted path: module.qualname
    module: str
    qualname: str
    location: str
    bases: list[str] = field(default_factory=list)  # canonical paths, as resolved
    mro: list[str] = field(default_factory=list)  # C3 over resolved classes; externals by path
    metaclass: str | None = None
    slots: list[str] | None = None
    decorators: list[str] = field(default_factory=list)


@dataclass
class ImportPath(_Model):
    """A dotted path a user may import, and what it resolves to statically."""

    path: str
    resolves_to: str | None  # canonical path, None when it does not resolve


@dataclass
class Surface(_Model):
    target: str  # "module:Class" as requested
    cls: ClassInfo
    members: dict[str, Member] = field(default_factory=dict)
    instance_attributes: dict[str, InstanceAttribute] = field(default_factory=dict)
    import_paths: list[ImportPath] = field(default_factory=list)
    exports: dict[str, list[ImportPath]] = field(default_factory=dict)  # module -> its public names
    generator: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["schema"] = SURFACE_SCHEMA
        data["schema_version"] = SURFACE_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Surface:
        data = {k: v for k, v in data.items() if k not in ("schema", "schema_version")}
        data["exports"] = {
            mod: [ImportPath.from_dict(p) for p in paths]
            for mod, paths in (data.get("exports") or {}).items()
        }
        return super().from_dict(data)

    def counts(self) -> dict[str, dict[str, int]]:
        """Member counts by visibility and by kind (instance attributes counted apart)."""
        by_vis: dict[str, int] = {}
        by_kind: dict[str, int] = {}
        for m in self.members.values():
            by_vis[m.visibility] = by_vis.get(m.visibility, 0) + 1
            by_kind[m.kind] = by_kind.get(m.kind, 0) + 1
        attrs: dict[str, int] = {}
        for a in self.instance_attributes.values():
            attrs[a.visibility] = attrs.get(a.visibility, 0) + 1
        return {
            "by_visibility": dict(sorted(by_vis.items())),
            "by_kind": dict(sorted(by_kind.items())),
            "instance_attributes": dict(sorted(attrs.items())),
        }


_NESTED: dict[tuple[str, str], type] = {
    ("Signature", "parameters"): Parameter,
    ("Member", "signature"): Signature,
    ("Surface", "cls"): ClassInfo,
    ("Surface", "members"): Member,
    ("Surface", "instance_attributes"): InstanceAttribute,
    ("Surface", "import_paths"): ImportPath,
}
_NESTED_IS_MAP = {("Surface", "members"): True, ("Surface", "instance_attributes"): True}

"""A profile: what a real subclass package uses of the target, as data.

:mod:`compat.static.profile` reads a package and builds one; the profile checks
(:mod:`compat.static.profile_checks`), the baseline that stores profiles and the reports read
them. The classes serialize themselves (``to_dict``/``from_dict``), and a profile file is
validated on read.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from compat.model import jsonio
from compat.model.errors import CompatError
from compat.model.surface import (
    CACHED_PROPERTY,
    CLASS_ATTRIBUTE,
    CLASSMETHOD,
    PROPERTY,
    STATICMETHOD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    Signature,
)

PROFILE_SCHEMA = "compat.profile"
PROFILE_VERSION = 1

# Members dagster calls on a custom instance class itself (not only through an instance), and
# how it calls them. `config_schema` and `config_defaults` are not members of the base at all:
# `InstanceRef.from_dir` looks them up on the class named by `instance_class:` in dagster.yaml.
CLASS_HOOKS: dict[str, str] = {
    "config_schema": "InstanceRef.from_dir calls cls.config_schema(); its keys pick the yaml values passed to __init__",
    "config_defaults": "InstanceRef.from_dir calls cls.config_defaults(base_dir) for the default components",
    "get": "DagsterInstance.get() and callers that narrow the instance type",
    "from_ref": "the factory builds the instance class of a ref (InstanceRef round-trip)",
    "from_config": "builds an instance from a config directory",
    "ephemeral": "builds an in-memory instance",
    "local_temp": "builds an instance in a temporary directory",
}

# Reads through self that every object has; never base contract.
_OBJECT_NAMES = {"__class__", "__dict__", "__module__", "__doc__", "__name__", "__qualname__"}


# --- the model -------------------------------------------------------------------------------
def _sig(data: dict | None) -> Signature | None:
    return Signature.from_dict(data) if data is not None else None


def _clean(sig: Signature | None) -> Signature | None:
    """A copy without the `()`/`{}` pseudo-defaults griffe gives *args and **kwargs."""
    if sig is None:
        return None
    sig = Signature.from_dict(sig.to_dict())
    for p in sig.parameters:
        if p.kind in (VAR_POSITIONAL, VAR_KEYWORD):
            p.default = None
    return sig


@dataclass
class OwnMember:
    """A member the subclass defines in its own class body."""

    name: str
    kind: str
    location: str
    signature: Signature | None = None
    value: str | None = None  # class attributes
    setter: bool = False

    @classmethod
    def from_dict(cls, d: dict) -> OwnMember:
        return cls(**{**d, "signature": _sig(d.get("signature"))})

    def render(self) -> str:
        if self.kind == CLASS_ATTRIBUTE:
            return f"{self.name} = {self.value}" if self.value is not None else self.name
        prefix = {PROPERTY: "@property ", CACHED_PROPERTY: "@cached_property ", CLASSMETHOD: "@classmethod ",
                  STATICMETHOD: "@staticmethod "}.get(self.kind, "")
        sig = self.signature.render(self.name) if self.signature else f"{self.name}(...)"
        return f"{prefix}def {sig}"


@dataclass
class CallShape:
    """How a base method calls an overridable method through self: `self.hook(x, b=y)`."""

    caller: str  # the base member making the call
    positional: int = 0  # explicit positional arguments
    keywords: list[str] = field(default_factory=list)  # explicit keyword names, sorted
    star_args: bool = False  # *args in the call
    star_kwargs: bool = False  # **kwargs in the call

    @classmethod
    def from_dict(cls, d: dict) -> CallShape:
        return cls(**d)

    def key(self) -> tuple:
        return (self.caller, self.positional, tuple(self.keywords), self.star_args, self.star_kwargs)

    def render(self, name: str) -> str:
        args = [f"<{self.positional} positional>"] if self.positional else []
        args += [f"{k}=..." for k in self.keywords]
        args += ["*..."] if self.star_args else []
        args += ["**..."] if self.star_kwargs else []
        return f"{self.caller}: self.{name}({', '.join(args)})"


@dataclass
class Override:
    """An own member whose name the base surface also has."""

    name: str
    kind: str
    location: str
    signature: Signature | None
    base_kind: str
    base_signature: Signature | None
    base_defined_in: str
    base_location: str
    called_by: list[str] = field(default_factory=list)  # base members that reach it through self
    super_calls: list[str] = field(default_factory=list)  # super().<x> the override makes
    call_shapes: list[CallShape] = field(default_factory=list)  # how base methods call it (methods)
    base_assigns: list[str] = field(default_factory=list)  # self.<x> the base implementation assigns
    reached_from_init: bool = False  # the base __init__ reaches it through self (when profiled)
    own_state: list[str] = field(default_factory=list)  # subclass attributes it reads (transitively)

    @classmethod
    def from_dict(cls, d: dict) -> Override:
        return cls(**{
            **d, "signature": _sig(d.get("signature")), "base_signature": _sig(d.get("base_signature")),
            "call_shapes": [CallShape.from_dict(c) for c in d.get("call_shapes", [])],
        })


@dataclass
class NewAttribute:
    """An instance attribute the subclass assigns through self that the base does not have."""

    name: str
    assigned_in: list[str] = field(default_factory=list)  # own methods
    location: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> NewAttribute:
        return cls(**d)


@dataclass
class BaseUse:
    """A base member or base instance attribute the subclass uses through self (or by class)."""

    name: str
    reads: list[str] = field(default_factory=list)  # own methods that read it
    calls: list[str] = field(default_factory=list)  # own methods that call it
    writes: list[str] = field(default_factory=list)  # own methods that assign it
    by_class: list[str] = field(default_factory=list)  # own methods that use `Base.name`
    base_kind: str = ""  # member kind, or "instance_attribute"
    base_defined_in: str = ""  # defining class (members) or "Class.method" assigning it first
    constructed: bool = False  # instance attributes: assigned while the base __init__ runs
    base_assigned_in: list[str] = field(default_factory=list)  # instance attributes: "Class.method"s

    @classmethod
    def from_dict(cls, d: dict) -> BaseUse:
        return cls(**d)

    @property
    def used_in(self) -> list[str]:
        return sorted(set(self.reads) | set(self.calls) | set(self.writes) | set(self.by_class))

    @property
    def read(self) -> bool:
        return bool(self.reads or self.calls or self.by_class)


@dataclass
class SuperCall:
    method: str  # the own method making the call
    name: str  # super().<name>
    lands_on: str | None  # class path of the MRO class that defines it; None when none does
    in_package: bool = False  # lands on another subclass of the package, not on the base
    # lands on a class beside the base (another base of a multiply-inheriting subclass, a mixin),
    # which a change of this base cannot move; written to the file only when true (None: false)
    beside_base: bool | None = None

    @classmethod
    def from_dict(cls, d: dict) -> SuperCall:
        return cls(**d)


@dataclass
class Constructor:
    defined: bool  # the subclass defines __init__ itself
    defined_in: str | None = None  # class whose __init__ runs first (itself, a package class, the base)
    signature: Signature | None = None
    calls_super_init: bool = False
    forwards_args: bool = False  # super().__init__(*args, ...)
    forwards_kwargs: bool = False  # super().__init__(..., **kwargs)
    keyword_only: list[str] = field(default_factory=list)  # keyword-only parameters it adds
    required_keyword_only: list[str] = field(default_factory=list)
    passes_keywords: list[str] = field(default_factory=list)  # explicit keywords to super().__init__
    passes_positional: int = 0  # explicit positional arguments to super().__init__
    config_keys: list[str] = field(default_factory=list)  # keys of its config_schema() (own or a package base's)
    forwarded_config_keys: list[str] = field(default_factory=list)  # of those, what reaches the base __init__
    base_signature: Signature | None = None  # the base __init__ at profiling time

    @classmethod
    def from_dict(cls, d: dict) -> Constructor:
        return cls(**{**d, "signature": _sig(d.get("signature")), "base_signature": _sig(d.get("base_signature"))})


@dataclass
class Hook:
    """A class-level hook dagster calls on the custom instance class, defined by the subclass."""

    name: str
    kind: str
    signature: Signature | None
    called_as: str
    base_kind: str | None = None  # None when the base does not define it (config_schema, ...)
    base_signature: Signature | None = None

    @classmethod
    def from_dict(cls, d: dict) -> Hook:
        return cls(**{**d, "signature": _sig(d.get("signature")), "base_signature": _sig(d.get("base_signature"))})


@dataclass
class SubclassProfile:
    path: str  # canonical dotted path
    module: str
    name: str
    location: str
    bases: list[str] = field(default_factory=list)
    mro: list[str] = field(default_factory=list)
    package_bases: list[str] = field(default_factory=list)  # other profiled subclasses in its MRO
    overrides: dict[str, Override] = field(default_factory=dict)
    new_members: dict[str, OwnMember] = field(default_factory=dict)
    new_attributes: dict[str, NewAttribute] = field(default_factory=dict)
    base_members: dict[str, BaseUse] = field(default_factory=dict)
    base_attributes: dict[str, BaseUse] = field(default_factory=dict)
    unresolved_refs: list[str] = field(default_factory=list)  # self.<x> defined nowhere visible
    super_calls: list[SuperCall] = field(default_factory=list)
    constructor: Constructor = field(default_factory=lambda: Constructor(defined=False))
    hooks: dict[str, Hook] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> SubclassProfile:
        return cls(
            path=d["path"], module=d["module"], name=d["name"], location=d["location"],
            bases=list(d.get("bases", [])), mro=list(d.get("mro", [])),
            package_bases=list(d.get("package_bases", [])),
            overrides={k: Override.from_dict(v) for k, v in d.get("overrides", {}).items()},
            new_members={k: OwnMember.from_dict(v) for k, v in d.get("new_members", {}).items()},
            new_attributes={k: NewAttribute.from_dict(v) for k, v in d.get("new_attributes", {}).items()},
            base_members={k: BaseUse.from_dict(v) for k, v in d.get("base_members", {}).items()},
            base_attributes={k: BaseUse.from_dict(v) for k, v in d.get("base_attributes", {}).items()},
            unresolved_refs=list(d.get("unresolved_refs", [])),
            super_calls=[SuperCall.from_dict(s) for s in d.get("super_calls", [])],
            constructor=Constructor.from_dict(d["constructor"]) if d.get("constructor") else Constructor(defined=False),
            hooks={k: Hook.from_dict(v) for k, v in d.get("hooks", {}).items()},
        )

    def created_names(self) -> set[str]:
        """Every name the subclass creates on the class or its instances."""
        return set(self.new_members) | set(self.new_attributes)


# the package name of the profile of the subclasses this harness ships (compat/corpus); every
# other profile is of a real downstream package
CORPUS_PACKAGE = "compat.corpus"


@dataclass
class Profile:
    package: str  # distribution or package name, or the directory name
    version: str | None  # the package's version, when known
    target: str  # "module:Class" as requested
    target_path: str  # canonical path of the target when profiled
    base_version: str  # version of the target's package the profile was read against
    subclasses: dict[str, SubclassProfile] = field(default_factory=dict)
    generator: dict[str, str] = field(default_factory=dict)
    # False: not built by dagster's instance factory, which calls the class with every keyword it
    # knows and looks up class hooks (config_schema, ...) on it; a storage, launcher or resource is
    # built by its own code (`from_config_value`, pydantic). None (left out of the file): it is
    instance_factory: bool | None = None

    @property
    def factory_built(self) -> bool:
        return self.instance_factory is not False

    @property
    def downstream(self) -> bool:
        """A real downstream package (dagster-cloud...), not the shipped corpus."""
        return not self.package.startswith(CORPUS_PACKAGE)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        # what older harnesses never wrote stays out at its default, so their profiles read the same
        if data["instance_factory"] is None:
            del data["instance_factory"]
        for sub in data["subclasses"].values():
            for sc in sub["super_calls"]:
                if not sc["beside_base"]:
                    del sc["beside_base"]
        data["schema"] = PROFILE_SCHEMA
        data["schema_version"] = PROFILE_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(
            package=data["package"],
            version=data.get("version"),
            target=data["target"],
            target_path=data["target_path"],
            base_version=data.get("base_version", "unknown"),
            subclasses={k: SubclassProfile.from_dict(v) for k, v in data.get("subclasses", {}).items()},
            generator=dict(data.get("generator", {})),
            instance_factory=data.get("instance_factory"),
        )

    @property
    def label(self) -> str:
        return f"{self.package} {self.version}" if self.version else self.package

    def summary(self) -> str:
        """A readable multi-line account of what each subclass uses of the base."""
        lines = [
            f"{self.label}: {len(self.subclasses)} subclass(es) of {self.target} "
            f"(read against {self.target.split('.', 1)[0].split(':', 1)[0]} {self.base_version})"
        ]
        for sub in self.subclasses.values():
            lines.append("")
            chain = " -> ".join([sub.path, *sub.package_bases, self.target_path])
            lines.append(f"{sub.name}  ({sub.location})")
            lines.append(f"  chain: {chain}")
            if sub.overrides:
                lines.append(f"  overrides ({len(sub.overrides)}):")
                for o in sub.overrides.values():
                    mine = o.signature.render(o.name) if o.signature else o.name
                    extra = f"; reached from {len(o.called_by)} base member(s)" if o.called_by else ""
                    if o.reached_from_init:
                        extra += "; the base __init__ reaches it"
                    lines.append(f"    {o.kind} {mine}   [base: {o.base_kind} in {o.base_defined_in.rsplit('.', 1)[-1]}{extra}]")
            if sub.hooks:
                lines.append("  class hooks: " + ", ".join(f"{h.name} ({h.kind})" for h in sub.hooks.values()))
            c = sub.constructor
            if c.defined:
                how = []
                if c.forwards_args:
                    how.append("*args")
                if c.forwards_kwargs:
                    how.append("**kwargs")
                fwd = f"forwards {', '.join(how)} to super().__init__" if how else (
                    "calls super().__init__" if c.calls_super_init else "does not call super().__init__")
                lines.append(f"  __init__: {fwd}; adds keyword-only {', '.join(c.keyword_only) or '-'}"
                             + (f" (required: {', '.join(c.required_keyword_only)})" if c.required_keyword_only else ""))
            elif c.defined_in:
                lines.append(f"  __init__: inherited from {c.defined_in}")
            if c.config_keys:
                fwd = f" ({', '.join(c.forwarded_config_keys)} reach the base __init__)" if c.forwarded_config_keys else ""
                lines.append(f"  config_schema keys: {', '.join(c.config_keys)}{fwd}")
            if sub.super_calls:
                lines.append("  super(): " + ", ".join(
                    f"{s.method} -> {s.name} on {s.lands_on.rsplit('.', 1)[-1] if s.lands_on else 'NOTHING'}"
                    for s in sub.super_calls))
            if sub.base_attributes:
                lines.append("  base attributes used: " + ", ".join(
                    f"{u.name} ({'rw' if u.read and u.writes else 'w' if u.writes else 'r'})" for u in sub.base_attributes.values()))
            shared = [u for u in sub.base_attributes.values() if u.writes and any(
                x.rsplit(".", 1)[-1] != "__init__" for x in u.base_assigned_in)]
            for u in shared:
                lines.append(f"  shares a slot with the base: self.{u.name} (it assigns it in {', '.join(u.writes)}; "
                             f"the base in {', '.join(u.base_assigned_in)})")
            if sub.base_members:
                lines.append(f"  base members used ({len(sub.base_members)}): " + ", ".join(sub.base_members))
            created = sorted(sub.created_names())
            if created:
                lines.append(f"  names it creates ({len(created)}): " + ", ".join(created))
            if sub.unresolved_refs:
                lines.append("  unresolved self refs: " + ", ".join(sub.unresolved_refs))
        return "\n".join(lines)


def write_profile(profile: Profile, path: str | os.PathLike[str]) -> Path:
    return jsonio.write_json(path, profile.to_dict())


def read_profile(path: str | os.PathLike[str]) -> Profile:
    data = jsonio.read_json(path, schema=PROFILE_SCHEMA, versions=(PROFILE_VERSION,))
    try:
        return Profile.from_dict(data)
    except (TypeError, KeyError, AttributeError) as exc:
        raise CompatError(f"{path}: malformed profile ({exc}); re-record it") from None

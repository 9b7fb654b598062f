"""What every profile rule shares: ``@profile_rule``, which registers one in the rule registry with
its toy base pair, toy subclass and near miss; the context a rule reads (the profile, the
subclass, the new surface and how the new base calls its methods); and the signature checks
of an override or a call against a base signature.
"""

from __future__ import annotations

from compat.model.findings import SUBCLASSES
from compat.model.surface import (
    CACHED_PROPERTY,
    CLASS_ATTRIBUTE,
    CLASSMETHOD,
    KEYWORD_ONLY,
    POSITIONAL_ONLY,
    POSITIONAL_OR_KEYWORD,
    PROPERTY,
    STATICMETHOD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    Signature,
    Surface,
)
from compat.rules.base import Hit
from compat.rules.registry import PROFILE, register, source_fixture
from compat.model.profile import CallShape, Profile, SubclassProfile
from compat.static.profile import constructed_attributes, reached_from


POSITIONAL = (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD)


KEYWORDABLE = (POSITIONAL_OR_KEYWORD, KEYWORD_ONLY)


def profile_rule(
    *,
    id: str,
    severity: str,
    family: str,
    summary: str,
    fix: str,
    old_base: str,
    new_base: str,
    subclass: str,
    near_miss: dict[str, str],
    severity_note: str = "",
    cause: str = "",
):
    """Register a profile rule (audience: subclasses) in the rule registry; its docstring is its
    explanation. The decorated function stays a plain function yielding :class:`Hit` objects.

    The fixture is a toy base before and after the change (target ``pkg.mod:Instance``) and a
    toy package ``ext`` subclassing it (``ext/sub.py``): profiling the subclass against the old
    base and checking the profile against the new one reports the rule. ``near_miss`` gives what
    differs from the fixture (``old_base``, ``new_base``, ``subclass``) and ``about``, why the rule
    stays quiet on it.
    """
    changes = {"old": old_base, "new": new_base, "subclass": subclass}
    changes.update({k.removesuffix("_base"): v for k, v in near_miss.items() if k != "about"})

    def deco(fn):
        register(
            id=id,
            severity=severity,
            audience=SUBCLASSES,
            layer=PROFILE,
            family=family,
            summary=summary,
            explanation=fn.__doc__ or "",
            fix=fix,
            fixture=source_fixture(old_base, new_base, subclass),
            near_miss=source_fixture(changes["old"], changes["new"], changes["subclass"], near_miss.get("about", "")),
            check=fn,
            severity_note=severity_note,
            cause=cause,
        )
        fn.rule_id = id
        return fn

    return deco


class _Ctx:
    def __init__(self, profile: Profile, sub: SubclassProfile, surface: Surface,
                 shapes: dict[str, list[CallShape]] | None = None):
        self.profile = profile
        self.sub = sub
        self.new = surface
        self.shapes = shapes  # how the new base calls its methods through self; None: unknown
        self._constructed: set[str] | None = None
        self._callers: dict[str, set[str]] | None = None
        self._init_reach: set[str] | None = None

    @property
    def init_reach(self) -> set[str]:
        if self._init_reach is None:
            self._init_reach = reached_from(self.new, "__init__")
        return self._init_reach

    @property
    def constructed(self) -> set[str]:
        if self._constructed is None:
            self._constructed = constructed_attributes(self.new)
        return self._constructed

    def callers(self, name: str) -> list[str]:
        """New base members whose bodies reach `name` through self."""
        if self._callers is None:
            self._callers = {}
            for mname, m in self.new.members.items():
                for ref in set(m.self_refs) | set(m.self_calls):
                    if ref != mname:
                        self._callers.setdefault(ref, set()).add(mname)
        return sorted(self._callers.get(name, ()))

    def hit(self, name: str, message: str, *, severity: str | None = None, old=None, new=None,
            old_location=None, new_location=None, **details) -> Hit:
        """A hit on the subclass's member `name`; the rule being run adds its id and audience (and
        its severity, unless `severity` lowers it)."""
        return Hit(
            member=f"{self.sub.name}.{name}",
            message=message,
            old=old,
            new=new,
            old_location=old_location,
            new_location=new_location,
            # the package as shown, and its name and release apart (what a cause lists as affected)
            details={"subclass": self.sub.path, "member_name": name, "package": self.profile.label, "package_name": self.profile.package,
                     "package_version": self.profile.version, **details},
            severity=severity,
        )

    def new_location(self, name: str) -> str | None:
        m = self.new.members.get(name)
        if m is not None:
            return m.location
        a = self.new.instance_attributes.get(name)
        return a.location if a is not None else None


def _group(kind: str) -> str:
    """How a member is used: read as a value, called on an instance, or callable on the class."""
    if kind in (PROPERTY, CACHED_PROPERTY, CLASS_ATTRIBUTE):
        return "value"
    if kind in (CLASSMETHOD, STATICMETHOD):
        return "class-callable"
    return "method"


def _short(kind: str) -> str:
    return kind.replace("_", " ")


def _callers_text(callers: list[str], limit: int = 5) -> str:
    if not callers:
        return ""
    shown = ", ".join(callers[:limit]) + (f" and {len(callers) - limit} more" if len(callers) > limit else "")
    return f" (reached from {shown})"


def call_issues(override: Signature, base: Signature, *, bound: bool) -> list[str]:
    """Ways a caller of the base signature can call that the override does not accept.

    `bound`: drop the first parameter of both (self / cls). Each issue is a stable short text.
    """
    ob = list(override.parameters)
    bb = list(base.parameters)
    if bound:
        ob = [p for p in ob[1:]] if ob and ob[0].kind in POSITIONAL else ob
        bb = [p for p in bb[1:]] if bb and bb[0].kind in POSITIONAL else bb
    o_pos = [p for p in ob if p.kind in POSITIONAL]
    b_pos = [p for p in bb if p.kind in POSITIONAL]
    o_varpos = any(p.kind == VAR_POSITIONAL for p in ob)
    o_varkw = any(p.kind == VAR_KEYWORD for p in ob)
    o_named = {p.name: p for p in ob if p.kind in KEYWORDABLE}
    b_named = {p.name: p for p in bb if p.kind in KEYWORDABLE}
    issues: list[str] = []
    for i, bp in enumerate(b_pos):
        if i < len(o_pos):
            op = o_pos[i]
            if bp.kind == POSITIONAL_OR_KEYWORD and op.kind == POSITIONAL_OR_KEYWORD and op.name != bp.name:
                issues.append(f"positional argument {i + 1} is `{bp.name}` in the base but `{op.name}` in the override")
        elif not o_varpos:
            optional = "optional " if not bp.required else ""
            issues.append(f"does not accept {optional}`{bp.name}` passed positionally (argument {i + 1})")
    for name, bp in b_named.items():
        if name in o_named or o_varkw:
            continue
        if bp.kind == POSITIONAL_OR_KEYWORD and any(p.name == name for p in o_pos):
            continue
        issues.append(f"does not accept the keyword `{name}`")
    if any(p.kind == VAR_POSITIONAL for p in bb) and not o_varpos:
        issues.append("does not accept the extra positional arguments the base takes (*args)")
    if any(p.kind == VAR_KEYWORD for p in bb) and not o_varkw:
        issues.append("does not accept the extra keyword arguments the base takes (**kwargs)")
    for i, op in enumerate(o_pos):
        if not op.required:
            continue
        bp = b_pos[i] if i < len(b_pos) else b_named.get(op.name)
        if bp is None or not bp.required:
            issues.append(f"requires `{op.name}`, which callers of the base need not pass")
    for op in ob:
        if op.kind == KEYWORD_ONLY and op.required:
            bp = b_named.get(op.name)
            if bp is None or not bp.required:
                issues.append(f"requires the keyword `{op.name}`, which callers of the base need not pass")
    return sorted(set(issues))


def _named(sig: Signature | None) -> dict[str, object]:
    if sig is None:
        return {}
    params = sig.parameters[1:] if sig.parameters and sig.parameters[0].kind in POSITIONAL else sig.parameters
    return {p.name: p for p in params if p.kind in KEYWORDABLE}


def _has_varkw(sig: Signature | None) -> bool:
    return sig is not None and any(p.kind == VAR_KEYWORD for p in sig.parameters)


def shape_issues(sig: Signature, shape: CallShape, *, bound: bool) -> list[str]:
    """Why a call of this shape does not fit the signature (empty when it fits)."""
    params = list(sig.parameters)
    if bound and params and params[0].kind in POSITIONAL:
        params = params[1:]
    pos = [p for p in params if p.kind in POSITIONAL]
    varpos = any(p.kind == VAR_POSITIONAL for p in params)
    varkw = any(p.kind == VAR_KEYWORD for p in params)
    named = {p.name: p for p in params if p.kind in KEYWORDABLE}
    issues = []
    if shape.positional > len(pos) and not varpos:
        issues.append(f"{shape.positional} positional arguments, it takes {len(pos)}")
    filled = {p.name for p in pos[: shape.positional]}
    for kw in shape.keywords:
        p = named.get(kw)
        if p is None and not varkw:
            issues.append(f"unexpected keyword `{kw}`")
        elif p is not None and kw in filled:
            issues.append(f"`{kw}` given twice")
    if not shape.star_args and not shape.star_kwargs:
        for p in params:
            if p.required and p.name not in filled and p.name not in shape.keywords:
                issues.append(f"no value for required `{p.name}`")
    return issues

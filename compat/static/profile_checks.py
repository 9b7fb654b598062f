"""Checks of a recorded subclass profile against the surface of a (new) base class.

A profile says what a real subclass relies on (see :mod:`compat.static.profile`); each rule below
asks whether the new base still provides it. Rules report only what the change of base
introduced: a contract the subclass already broke against the base it was profiled on is not
reported again (the profile records the old base signature or kind next to each use).

A rule is a plain function yielding hits, registered with ``@profile_rule`` in the one rule
registry (:mod:`compat.rules.registry`) together with a toy base pair and a toy subclass that
make it fire, and a near miss that must not.

Every finding has source ``profile`` and audience ``subclasses``; its member is
``Subclass.member`` and ``details["subclass"]`` is the subclass's dotted path.
"""

from __future__ import annotations

from typing import Iterator

import griffe

from compat.model.findings import BREAKING, SUBCLASSES, TYPING, WARNING, Finding, sort_findings
from compat.model.surface import (
    CACHED_PROPERTY,
    CLASS_ATTRIBUTE,
    CLASSMETHOD,
    KEYWORD_ONLY,
    METHOD,
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
from compat.rules.registry import PROFILE, all_rules, register, source_fixture
from compat.model.annotations import is_subtype
from compat.static.extract import Extractor
from compat.static.loader import StaticLoader
from compat.model.profile import CallShape, Profile, SubclassProfile
from compat.static.profile import (
    base_call_shapes,
    constructed_attributes,
    construction_methods,
    reached_from,
)

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
            details={"subclass": self.sub.path, "package": self.profile.label, "package_name": self.profile.package,
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


# --- signature compatibility -----------------------------------------------------------------
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


# --- the rules -------------------------------------------------------------------------------
@profile_rule(
    id="override-target-removed",
    cause="removed",
    severity=BREAKING,
    family="overrides",
    summary="A member the subclass overrides no longer exists in the base.",
    severity_note=(
        "Breaking when base code reached the override when profiled or the member is public; a protected "
        "member nobody called is a warning."
    ),
    fix=(
        "Keep the member (delegating to its replacement) or tell subclass authors which new member to "
        "override."
    ),
    old_base="""
        class Instance:
            def get_required_daemon_types(self):
                return ["SENSOR"]

            def daemons_healthy(self):
                return self.get_required_daemon_types()
    """,
    new_base="""
        class Instance:
            def daemons_healthy(self):
                return ["SENSOR"]
    """,
    subclass="""
        from pkg.mod import Instance


        class NoDaemons(Instance):
            def get_required_daemon_types(self):
                return []
    """,
    near_miss=dict(
        new_base="""
            class DaemonMixin:
                def get_required_daemon_types(self):
                    return ["SENSOR"]


            class Instance(DaemonMixin):
                def daemons_healthy(self):
                    return self.get_required_daemon_types()
        """,
        about=(
            "the member moved into a mixin: still in the MRO, the override still wins and is still "
            "reached"
        ),
    ),
)
def override_target_removed(ctx: _Ctx) -> Iterator[Hit]:
    """The base no longer has a member the subclass overrides.

    Who breaks: the subclass overrode the member to change what the base does (turn telemetry
    off, forbid a setting, supply its own run launcher). With the member gone from the base, no
    base code reaches the override any more: the override is dead code and the behaviour it
    enforced is silently lost, or the base's callers moved to a new name the subclass does not
    override. If the base now assigns an instance attribute of that name, the override also
    collides with it (a property without a setter raises AttributeError on the assignment).
    """
    for name, o in ctx.sub.overrides.items():
        if name in ctx.new.members:
            continue
        attr = ctx.new.instance_attributes.get(name)
        if attr is not None:
            yield ctx.hit(
                name,
                f"{ctx.sub.name} overrides {o.base_kind} `{name}`, which the base now assigns as an instance "
                f"attribute in {', '.join(attr.assigned_in)}: the base's assignment collides with the override",
                old=f"{o.base_kind} {name}", new=f"self.{name} = ...", old_location=o.location,
                new_location=attr.location,
            )
            continue
        severity = BREAKING if (o.called_by or not name.startswith("_")) else WARNING
        was = _callers_text(o.called_by)
        yield ctx.hit(
            name,
            f"{ctx.sub.name} overrides {_short(o.base_kind)} `{name}`{was}, which the new base does not have: "
            f"the override is dead code and the behaviour it enforced is lost",
            severity=severity, old=f"{o.base_kind} {name} in {o.base_defined_in}", new=None,
            old_location=o.location,
        )


@profile_rule(
    id="override-bypassed",
    cause="dispatch-lost",
    severity=BREAKING,
    family="overrides",
    summary="A base method that reached an overridden member through self no longer does.",
    severity_note=(
        "A warning when the base method now goes through something the static analysis cannot follow (a "
        "new super() call, a helper object held in an instance attribute): the override may still be "
        "reached that way."
    ),
    fix="Keep calling `self.<member>` (or the property) in the base method.",
    old_base="""
        class Instance:
            def __init__(self):
                self._run_launcher = None

            @property
            def run_launcher(self):
                return self._run_launcher

            def launch_run(self, run_id):
                return self.run_launcher.launch(run_id)
    """,
    new_base="""
        class Instance:
            def __init__(self):
                self._run_launcher = None

            @property
            def run_launcher(self):
                return self._run_launcher

            def launch_run(self, run_id):
                return self._run_launcher.launch(run_id)
    """,
    subclass="""
        from pkg.mod import Instance


        class CloudInstance(Instance):
            @property
            def run_launcher(self):
                return self._user_code_launcher
    """,
    near_miss=dict(
        new_base="""
            class Instance:
                def __init__(self):
                    self._run_launcher = None

                @property
                def run_launcher(self):
                    return self._run_launcher

                def _launcher_for(self, run_id):
                    return self.run_launcher

                def launch_run(self, run_id):
                    return self._launcher_for(run_id).launch(run_id)
        """,
        about=(
            "launch_run now goes through a helper, which still reads self.run_launcher: the override is "
            "still reached"
        ),
    ),
)
def override_bypassed(ctx: _Ctx) -> Iterator[Hit]:
    """A base member that reached the subclass's override through `self` (when the profile was
    recorded) still exists but no longer reaches it, directly or through the helpers it calls.

    Who breaks: the subclass overrides the member precisely to change what that base method
    does (its own run launcher for `launch_run`, no daemons for the daemon status check). The
    base now reads private state or calls a helper object instead of dispatching through self,
    so the override is silently ignored on that path: no error, different behaviour.
    """
    for name, o in ctx.sub.overrides.items():
        if name not in ctx.new.members or not o.called_by:
            continue
        for caller in o.called_by:
            new_caller = ctx.new.members.get(caller)
            if new_caller is None or caller in ctx.sub.overrides or caller in ctx.sub.new_members:
                continue  # removed callers are the surface diff's business; overridden ones are the subclass's
            if name in reached_from(ctx.new, caller):
                continue
            opaque = sorted(
                r for r in set(new_caller.self_refs) | set(new_caller.self_calls)
                if r not in ctx.new.members and r in ctx.new.instance_attributes
                and r.lstrip("_") != name.lstrip("_")
            ) + [f"super().{x}" for x in new_caller.super_calls]
            yield ctx.hit(
                name,
                f"base {caller} no longer reaches `{name}` through self: {ctx.sub.name}'s override is silently "
                f"ignored there" + (f" (unless it is reached through {', '.join(opaque)})" if opaque else ""),
                severity=WARNING if opaque else BREAKING,
                old=f"{caller} -> self.{name}", new=f"{caller} (no self.{name})",
                old_location=o.location, new_location=new_caller.location, caller=caller, opaque=opaque,
            )


@profile_rule(
    id="override-kind-mismatch",
    severity=BREAKING,
    family="overrides",
    summary="The base changed the kind of a member the subclass overrides.",
    fix="Keep the old kind, or add the new member under a new name and keep the old one.",
    old_base="""
        class Instance:
            @property
            def telemetry_enabled(self):
                return True

            def log_action(self, action):
                if self.telemetry_enabled:
                    print(action)
    """,
    new_base="""
        class Instance:
            def telemetry_enabled(self):
                return True

            def log_action(self, action):
                if self.telemetry_enabled():
                    print(action)
    """,
    subclass="""
        from pkg.mod import Instance


        class Quiet(Instance):
            @property
            def telemetry_enabled(self):
                return False
    """,
    near_miss=dict(
        new_base="""
            import functools


            class Instance:
                @functools.cached_property
                def telemetry_enabled(self):
                    return True

                def log_action(self, action):
                    if self.telemetry_enabled:
                        print(action)
        """,
        about="property to cached_property: both are read as a value, so the property override still fits",
    ),
)
def override_kind_mismatch(ctx: _Ctx) -> Iterator[Hit]:
    """The base turned an overridden member into another kind (property <-> method,
    method <-> classmethod/staticmethod).

    Who breaks: base code now uses the member the new way (`self.x()` instead of `self.x`,
    `cls.x()` instead of `self.x()`), and the subclass's override still has the old shape:
    calling a property's value raises TypeError, reading a method gives a bound method that is
    always truthy, a plain method called on the class misses its `self`.
    Only changes between the three usage groups count: value (property, cached property,
    class attribute), instance method, class-callable (classmethod, staticmethod).
    """
    for name, o in ctx.sub.overrides.items():
        new = ctx.new.members.get(name)
        if new is None:
            continue
        if _group(o.kind) == _group(new.kind) or _group(o.kind) != _group(o.base_kind):
            continue
        yield ctx.hit(
            name,
            f"{ctx.sub.name} overrides `{name}` as a {_short(o.kind)}, but the base now defines a {_short(new.kind)}"
            f"{_callers_text(ctx.callers(name))}: base code uses it the new way and the override no longer fits",
            old=f"{o.base_kind} {name}", new=f"{new.kind} {name}", old_location=o.location, new_location=new.location,
        )


@profile_rule(
    id="override-signature-incompatible",
    severity=BREAKING,
    family="overrides",
    summary="The override no longer accepts every call the new base signature allows.",
    severity_note=(
        "A warning when the only new problem is an optional parameter the override accepts by keyword "
        "(through **kwargs) but not by position."
    ),
    fix=(
        "Give the new parameter to the override too, or keep the base signature and add a new hook for "
        "the new argument."
    ),
    old_base="""
        class Instance:
            def add_run_tags(self, run_id, new_tags):
                pass

            def retry_run(self, run_id):
                self.add_run_tags(run_id, {"retry": "1"})
    """,
    new_base="""
        class Instance:
            def add_run_tags(self, run_id, new_tags, *, replace=False):
                pass

            def retry_run(self, run_id):
                self.add_run_tags(run_id, {"retry": "1"}, replace=True)
    """,
    subclass="""
        from pkg.mod import Instance


        class Audited(Instance):
            def add_run_tags(self, run_id, new_tags):
                print("tags", run_id)
                return super().add_run_tags(run_id, new_tags)
    """,
    near_miss=dict(
        subclass="""
            from pkg.mod import Instance


            class Audited(Instance):
                def add_run_tags(self, run_id, new_tags, **kwargs):
                    print("tags", run_id)
                    return super().add_run_tags(run_id, new_tags, **kwargs)
        """,
        about="the override forwards **kwargs, so it accepts the new keyword the base now passes",
    ),
)
def override_signature_incompatible(ctx: _Ctx) -> Iterator[Hit]:
    """The base signature of an overridden method changed so that a call the base (or any
    caller of the base) may now make does not fit the subclass's override.

    Who breaks: callers and base methods call the hook through `self` with the new base
    signature, and the override's own signature rejects the call with TypeError. The typical
    case is an optional parameter added to the base: callers that pass it reach an override that
    lacks it (and has no **kwargs). Also: a parameter renamed (keyword callers miss), a
    positional slot that now means something else, *args/**kwargs added to the base.
    Only incompatibilities the change introduced are reported (the profile keeps the base
    signature the override was written against). The base methods that reach the hook through
    self are listed: they are the first callers to fail.
    Protocol dunders (`__exit__`, ...) are called positionally by the interpreter: a renamed
    parameter there is not reported.
    """
    for name, o in ctx.sub.overrides.items():
        new = ctx.new.members.get(name)
        if new is None or name == "__init__" or o.signature is None or new.signature is None:
            continue
        if _group(o.kind) != _group(new.kind) or o.kind in (PROPERTY, CACHED_PROPERTY, CLASS_ATTRIBUTE):
            continue
        if new.kind in (PROPERTY, CACHED_PROPERTY, CLASS_ATTRIBUTE):
            continue
        bound = o.kind != STATICMETHOD
        before = set(call_issues(o.signature, o.base_signature, bound=bound)) if o.base_signature else set()
        after = call_issues(o.signature, new.signature, bound=new.kind != STATICMETHOD)
        introduced = [i for i in after if i not in before]
        if name.startswith("__") and name.endswith("__"):
            # the interpreter calls protocol dunders positionally: parameter names do not matter
            introduced = [i for i in introduced if "keyword" not in i and "in the base but" not in i]
        # calls the new base makes through self that the override rejects and the old base did not make
        failing = []
        if ctx.shapes is not None:
            old_keys = {c.key() for c in o.call_shapes}
            for shape in ctx.shapes.get(name, []):
                if shape.key() in old_keys:
                    continue
                problems = shape_issues(o.signature, shape, bound=bound)
                if problems:
                    failing.append((shape, problems))
        if not introduced and not failing:
            continue
        callers = ctx.callers(name)
        parts = []
        if introduced:
            parts.append(f"{ctx.sub.name}.{name} {'; '.join(introduced)}, but the base now allows it{_callers_text(callers)}")
        for shape, problems in failing:
            parts.append(f"the base now calls {shape.render(name)}, which the override rejects ({'; '.join(problems)})")
        # an optional parameter the override accepts by keyword only breaks positional callers
        severity = WARNING if not failing and all(i.startswith("does not accept optional `") for i in introduced) else BREAKING
        yield ctx.hit(
            name,
            "; ".join(parts),
            severity=severity,
            old=o.signature.render(name), new=new.signature.render(name), old_location=o.location,
            new_location=new.location, issues=introduced, callers=callers,
            failing_calls=[shape.render(name) for shape, _ in failing],
            base_before=o.base_signature.render(name) if o.base_signature else None,
        )


@profile_rule(
    id="override-return-incompatible",
    severity=BREAKING,
    family="overrides",
    summary="The base narrowed the return type of a member the subclass overrides, past what the override declares.",
    fix="Keep the old, wider return type on the base, or narrow it only where no override declares the old one.",
    old_base="""
        from typing import Sequence


        class Instance:
            def log_keys(self) -> Sequence[Sequence[str]]:
                return []
    """,
    new_base="""
        from typing import Sequence


        class Instance:
            def log_keys(self) -> Sequence[list[str]]:
                return []
    """,
    subclass="""
        from typing import Sequence

        from pkg.mod import Instance


        class Cloud(Instance):
            def log_keys(self) -> Sequence[Sequence[str]]:
                return [("a",)]
    """,
    near_miss=dict(
        subclass="""
            from typing import Sequence

            from pkg.mod import Instance


            class Cloud(Instance):
                def log_keys(self) -> Sequence[list[str]]:
                    return [["a"]]
        """,
        about="the override already declares the narrower type: it still fits the new base",
    ),
)
def override_return_incompatible(ctx: _Ctx) -> Iterator[Hit]:
    """The override's declared return type fitted the base it was written against and does not
    fit the new base's narrower one.

    Who breaks: a type-checked subclass (mypy, pyright) now has an incompatible override
    (`Return type "Sequence[Sequence[str]]" of "get_log_keys_for_log_key_prefix" incompatible
    with return type "Sequence[list[str]]" in supertype`). Nothing changes at run time, but a
    package that type-checks its code must change its override. An override that already
    declared a type outside the old base's is not reported again.
    """
    for name, o in ctx.sub.overrides.items():
        new = ctx.new.members.get(name)
        if new is None or o.signature is None or new.signature is None or o.base_signature is None:
            continue
        mine, before, after = o.signature.returns_norm, o.base_signature.returns_norm, new.signature.returns_norm
        if not mine or not before or not after or before == after:
            continue
        if not (mine == before or is_subtype(mine, before)) or mine == after or is_subtype(mine, after):
            continue
        yield ctx.hit(
            name,
            f"{ctx.sub.name}.{name} declares `-> {o.signature.returns}`, which fitted the base's `-> "
            f"{o.base_signature.returns}`; the base now declares `-> {new.signature.returns}`: an incompatible "
            f"override under a type checker",
            old=o.signature.render(name), new=new.signature.render(name), old_location=o.location,
            new_location=new.location, breakage=TYPING, old_returns=before, new_returns=after,
        )


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


@profile_rule(
    id="base-attribute-missing",
    cause="removed",
    severity=BREAKING,
    family="base-state",
    summary="A base member or instance attribute the subclass uses through self is gone.",
    severity_note="A warning when the subclass only writes it: the value is ignored, nothing raises.",
    fix="Keep assigning the attribute (even as an alias of its replacement) or keep the member.",
    old_base="""
        class Instance:
            def __init__(self, settings=None):
                self._settings = settings or {}
    """,
    new_base="""
        class Instance:
            def __init__(self, settings=None):
                self._config = settings or {}
    """,
    subclass="""
        from pkg.mod import Instance


        class Cloud(Instance):
            def telemetry(self):
                return self._settings.get("telemetry")
    """,
    near_miss=dict(
        new_base="""
            class Instance:
                def __init__(self, settings=None):
                    self._config = settings or {}

                @property
                def _settings(self):
                    return self._config
        """,
        about="the attribute became a property of the same name: the subclass's read still works",
    ),
)
def base_attribute_missing(ctx: _Ctx) -> Iterator[Hit]:
    """A public or protected base attribute (instance attribute such as `self._settings`, or a
    member such as `self.get_ref()`) that the subclass reads, calls or writes through `self` (or
    uses as `Base.name`) is no longer defined or assigned by the base.

    Who breaks: the subclass's method raises AttributeError when it reads it. When the subclass
    only writes it (to hand a value to the base), the write now goes nowhere: the base ignores
    the value (warning). When the subclass writes it and reads it back itself, nothing breaks
    and nothing is reported.
    """
    for kind_label, uses in (("member", ctx.sub.base_members), ("attribute", ctx.sub.base_attributes)):
        for name, use in uses.items():
            if name in ctx.new.members or name in ctx.new.instance_attributes:
                continue
            if name.startswith("__") and name.endswith("__"):
                continue
            if use.read:
                if use.writes:
                    continue  # its own state now
                yield ctx.hit(
                    name,
                    f"{ctx.sub.name} uses base {kind_label} `{name}` in {', '.join(use.used_in)}, "
                    f"which the new base no longer {'defines' if kind_label == 'member' else 'assigns'}: AttributeError",
                    old=f"{use.base_kind} {name} ({use.base_defined_in})", new=None, used_in=use.used_in,
                )
            else:
                yield ctx.hit(
                    name,
                    f"{ctx.sub.name} sets base {kind_label} `{name}` in {', '.join(use.writes)} for the base to use, "
                    f"but the base no longer has it: the value is ignored",
                    severity=WARNING, old=f"{use.base_kind} {name} ({use.base_defined_in})", new=None,
                    used_in=use.used_in,
                )


@profile_rule(
    id="base-attribute-late",
    severity=BREAKING,
    family="base-state",
    summary="A base instance attribute the subclass reads is no longer assigned while the base __init__ runs.",
    fix="Assign a default in `__init__` (None) and fill it lazily afterwards.",
    old_base="""
        class Instance:
            def __init__(self, run_storage=None):
                self._run_storage = run_storage
    """,
    new_base="""
        class Instance:
            def __init__(self, run_storage=None):
                self._run_storage_arg = run_storage

            def __enter__(self):
                self._run_storage = self._run_storage_arg
                return self
    """,
    subclass="""
        from pkg.mod import Instance


        class Cloud(Instance):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._runs = self._run_storage
    """,
    near_miss=dict(
        new_base="""
            class Instance:
                def __init__(self, run_storage=None):
                    self._setup(run_storage)

                def _setup(self, run_storage):
                    self._run_storage = run_storage
        """,
        about="the assignment moved into a helper that __init__ calls: still assigned during construction",
    ),
)
def base_attribute_late(ctx: _Ctx) -> Iterator[Hit]:
    """A base instance attribute the subclass reads used to be assigned during construction
    (in `__init__` or a method `__init__` calls through self) and is now assigned only later,
    in some other method (lazily, in `__enter__`, ...).

    Who breaks: the subclass reads the attribute in its own `__init__` after
    `super().__init__()`, or in an override the base calls before that other method ran:
    AttributeError, or a stale value.
    """
    for name, use in ctx.sub.base_attributes.items():
        if not use.read or not use.constructed:
            continue
        attr = ctx.new.instance_attributes.get(name)
        if attr is None or name in ctx.new.members or name in ctx.constructed:
            continue
        yield ctx.hit(
            name,
            f"{ctx.sub.name} reads base attribute `{name}` in {', '.join(use.used_in)}; the base assigned it "
            f"during __init__ but now only in {', '.join(attr.assigned_in)}",
            old=f"assigned in {use.base_defined_in}", new=f"assigned in {', '.join(attr.assigned_in)}",
            new_location=attr.location, used_in=use.used_in,
        )


@profile_rule(
    id="subclass-name-clash",
    cause="name-clash",
    severity=BREAKING,
    family="base-state",
    summary="The base now defines or assigns a name the subclass itself creates.",
    severity_note=(
        "A warning when the base's new member of that name is not called by base code yet (and has the "
        "same kind of use) and the subclass is one of the shipped corpus, not a real downstream package; "
        "and when the subclass chose to write the base's own attribute."
    ),
    fix=(
        "Pick another name in the base (a subclass cannot know what the base will add), or document the "
        "slot as shared."
    ),
    old_base="""
        class Instance:
            def __init__(self):
                self._settings = {}

            def __enter__(self):
                return self
    """,
    new_base="""
        import contextlib


        class Instance:
            def __init__(self):
                self._settings = {}

            def __enter__(self):
                self._exit_stack = contextlib.ExitStack()
                return self
    """,
    subclass="""
        import contextlib

        from pkg.mod import Instance


        class Cloud(Instance):
            def __init__(self):
                super().__init__()
                self._exit_stack = contextlib.ExitStack()

            def dispose(self):
                self._exit_stack.close()
    """,
    near_miss=dict(
        new_base="""
            import contextlib


            class Instance:
                def __init__(self):
                    self._settings = {}

                def __enter__(self):
                    self._instance_exit_stack = contextlib.ExitStack()
                    return self
        """,
        about="the base's new attribute has a name the subclass does not use",
    ),
)
def subclass_name_clash(ctx: _Ctx) -> Iterator[Hit]:
    """A name the subclass creates (a method, property, class attribute, or a `self.<x>`
    instance attribute) is now also a base member or a base instance attribute; or the subclass
    writes a base instance attribute that the base also assigns after construction.

    Who breaks:
    - base now assigns `self.<x>` that the subclass also uses: the base clobbers the subclass's
      state (or the subclass clobbers the base's), e.g. a base `__enter__` that starts writing
      `self._exit_stack`, which the subclass created in its `__init__` and closes in `dispose`;
      a base assignment to a name the subclass made a read-only property raises AttributeError;
    - base now defines a member with the subclass's name: the subclass silently overrides it.
      Breaking when base code reaches it through self (the base now runs the subclass's code
      with the base's expectations), or when the subclass is a real downstream one (its name is
      certainly taken); a warning for a corpus subclass when nothing in the base calls it yet
      (callers of the new API get the subclass's behaviour).
    - the subclass writes a base attribute and the base now also assigns it in a method that
      runs after construction (one it did not assign it in before): the two share one slot and
      the later write wins (a warning: the subclass chose to write the base's attribute).
    """
    sub = ctx.sub
    for name, m in sub.new_members.items():
        new = ctx.new.members.get(name)
        attr = ctx.new.instance_attributes.get(name)
        if new is not None:
            callers = ctx.callers(name)
            # a real downstream subclass already using the name is a certain clash, called or not
            severity = BREAKING if callers or ctx.profile.downstream or _group(new.kind) != _group(m.kind) else WARNING
            yield ctx.hit(
                name,
                f"the base now defines {_short(new.kind)} `{name}`{_callers_text(callers)}; {sub.name} already "
                f"has its own {_short(m.kind)} of that name, which silently overrides it",
                severity=severity, old=m.render(), new=new.render(), old_location=m.location, new_location=new.location,
            )
        elif attr is not None:
            yield ctx.hit(
                name,
                f"the base now assigns `self.{name}` in {', '.join(attr.assigned_in)}; {sub.name} defines "
                f"{_short(m.kind)} `{name}`, which the assignment replaces or trips over",
                old=m.render(), new=f"self.{name} = ...", old_location=m.location, new_location=attr.location,
            )
    for name, a in sub.new_attributes.items():
        new = ctx.new.members.get(name)
        attr = ctx.new.instance_attributes.get(name)
        if attr is not None:
            construction = construction_methods(ctx.new)
            later = [x for x in attr.assigned_in if x.rsplit(".", 1)[-1] not in construction]
            if later:
                who = (f"the base's write in {', '.join(later)} replaces the subclass's object after construction "
                       f"(whatever the subclass kept in it is lost)")
            else:
                who = "the subclass's write replaces the base's object, so base code now works on the subclass's"
            yield ctx.hit(
                name,
                f"the base now assigns `self.{name}` in {', '.join(attr.assigned_in)}; {sub.name} assigns it "
                f"in {', '.join(a.assigned_in)} for its own state: {who}",
                old=f"self.{name} ({sub.name})", new=f"self.{name} ({', '.join(attr.assigned_in)})",
                old_location=a.location, new_location=attr.location,
            )
        elif new is not None:
            yield ctx.hit(
                name,
                f"the base now defines {_short(new.kind)} `{name}`; {sub.name} assigns `self.{name}` in "
                f"{', '.join(a.assigned_in)}, which shadows it (or fails for a property without setter)",
                old=f"self.{name} ({sub.name})", new=new.render(), old_location=a.location, new_location=new.location,
            )
    for name, use in sub.base_attributes.items():
        if not use.writes:
            continue
        attr = ctx.new.instance_attributes.get(name)
        if attr is None:
            continue
        construction = construction_methods(ctx.new)
        before = {x.rsplit(".", 1)[-1] for x in use.base_assigned_in}
        late = sorted(x for x in attr.assigned_in
                      if x.rsplit(".", 1)[-1] not in construction and x.rsplit(".", 1)[-1] not in before)
        if not late:
            continue
        yield ctx.hit(
            name,
            f"{sub.name} assigns base attribute `self.{name}` in {', '.join(use.writes)}, and the base assigns it "
            f"again in {', '.join(late)} after construction: the two share one slot and the later write wins",
            severity=WARNING, old=f"self.{name} ({sub.name}: {', '.join(use.writes)})",
            new=f"self.{name} ({', '.join(late)})", new_location=attr.location,
        )


@profile_rule(
    id="override-skips-base-setup",
    severity=BREAKING,
    family="overrides",
    summary="A base method the subclass overrides without super() now sets state other base code needs.",
    fix=(
        "Assign a default in `__init__`, or read the attribute with a fallback (`getattr(self, \"_x\", "
        "None)`)."
    ),
    old_base="""
        class Instance:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                pass
    """,
    new_base="""
        import contextlib


        class Instance:
            def __enter__(self):
                self._exit_stack = contextlib.ExitStack()
                return self

            def __exit__(self, *exc):
                self._exit_stack.close()
    """,
    subclass="""
        from pkg.mod import Instance


        class Cloud(Instance):
            def __enter__(self):
                print("entering")
                return self
    """,
    near_miss=dict(
        subclass="""
            from pkg.mod import Instance


            class Cloud(Instance):
                def __enter__(self):
                    print("entering")
                    return super().__enter__()
        """,
        about="the override calls super().__enter__(), so the base still sets up what __exit__ needs",
    ),
)
def override_skips_base_setup(ctx: _Ctx) -> Iterator[Hit]:
    """The base implementation of a method the subclass overrides now assigns an instance
    attribute (outside construction) that other base members read, and the subclass's override
    does not call `super().<method>()`.

    Who breaks: the override replaces the base method entirely, so the attribute is never
    assigned, and the base members that read it raise AttributeError. The case that motivated
    it: a base `__enter__` that starts creating `self._exit_stack`, which `__exit__` closes; a
    subclass whose `__enter__` returns `self` without `super().__enter__()` fails on exit.
    """
    readers: dict[str, list[str]] = {}
    for mname, m in ctx.new.members.items():
        for ref in m.self_refs:
            readers.setdefault(ref, []).append(mname)
    for name, o in ctx.sub.overrides.items():
        if name == "__init__" or name in o.super_calls:
            continue
        new = ctx.new.members.get(name)
        if new is None or new.kind not in (METHOD, PROPERTY, CACHED_PROPERTY):
            continue
        for attr in sorted(set(new.assigns) - set(o.base_assigns)):
            if attr in ctx.constructed or attr in ctx.new.members:
                continue
            who = sorted(r for r in readers.get(attr, []) if r != name and r not in ctx.sub.overrides)
            if not who:
                continue
            yield ctx.hit(
                name,
                f"the base {name} now assigns `self.{attr}`, which {', '.join(who)} read(s); {ctx.sub.name}.{name} "
                f"does not call super().{name}(), so it is never set: AttributeError",
                old=o.signature.render(name) if o.signature else name,
                new=f"self.{attr} = ... in {new.defined_in.rsplit('.', 1)[-1]}.{name}",
                old_location=o.location, new_location=new.location, attribute=attr, readers=who,
            )


@profile_rule(
    id="override-reached-during-init",
    cause="dispatch-gained",
    severity=BREAKING,
    family="construction",
    summary="The base __init__ now reaches an override that reads state the subclass sets after super().__init__().",
    fix=(
        "Keep overridable members out of `__init__` (set up lazily), or document the hook as called "
        "during construction so subclasses guard it."
    ),
    old_base="""
        class Instance:
            def __init__(self):
                self._ready = True

            @property
            def run_launcher(self):
                return None
    """,
    new_base="""
        class Instance:
            def __init__(self):
                self._ready = True
                self._monitored = self.run_launcher

            @property
            def run_launcher(self):
                return None
    """,
    subclass="""
        from pkg.mod import Instance


        class Cloud(Instance):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._launcher = object()

            @property
            def run_launcher(self):
                return self._launcher
    """,
    near_miss=dict(
        subclass="""
            from pkg.mod import Instance

            LAUNCHER = object()


            class Cloud(Instance):
                @property
                def run_launcher(self):
                    return LAUNCHER
        """,
        about=(
            "the override reads no state of the subclass's own, so running it during construction is "
            "safe"
        ),
    ),
)
def override_reached_during_init(ctx: _Ctx) -> Iterator[Hit]:
    """The new base `__init__` reaches (through self, directly or via its helpers) a member the
    subclass overrides, where the old one did not, and the override reads attributes the
    subclass assigns itself.

    Who breaks: a subclass `__init__` calls `super().__init__(*args, **kwargs)` first and sets
    its own state afterwards (the dagster-cloud pattern). The base's `__init__` now runs the
    override before that state exists: AttributeError during construction, e.g. run-monitoring
    set-up reading `self.run_launcher` that a subclass serves from its own launcher.
    The analysis ignores conditions (a call under `if settings...` counts), the same way for
    old and new base, so only a new path is reported.
    """
    if not ctx.sub.constructor.defined:
        return
    for name, o in ctx.sub.overrides.items():
        if name == "__init__" or o.reached_from_init or not o.own_state or name not in ctx.init_reach:
            continue
        yield ctx.hit(
            name,
            f"the base __init__ now reaches `{name}`; {ctx.sub.name}.{name} reads "
            f"{', '.join('self.' + a for a in o.own_state)}, which {ctx.sub.name}.__init__ sets only after "
            f"super().__init__() returns: AttributeError during construction",
            old=o.signature.render(name) if o.signature else name, new=None,
            old_location=o.location, new_location=ctx.new_location("__init__"), own_state=o.own_state,
        )


@profile_rule(
    id="super-target-missing",
    cause="removed",
    severity=BREAKING,
    family="overrides",
    summary="A super().<x> call of the subclass no longer lands on anything.",
    fix="Keep the member in some base class of the MRO.",
    old_base="""
        class Instance:
            def dispose(self):
                pass
    """,
    new_base="""
        class Instance:
            def close(self):
                pass
    """,
    subclass="""
        from pkg.mod import Instance


        class Cloud(Instance):
            def shutdown(self):
                super().dispose()
    """,
    near_miss=dict(
        new_base="""
            class Disposable:
                def dispose(self):
                    pass


            class Instance(Disposable):
                def close(self):
                    pass
        """,
        about="dispose moved into a mixin: super() follows the MRO and still finds it",
    ),
)
def super_target_missing(ctx: _Ctx) -> Iterator[Hit]:
    """The subclass calls `super().<x>(...)` and no class of the new base's MRO defines `<x>`.

    Who breaks: the call raises AttributeError ('super' object has no attribute ...) the first
    time the override runs: `dispose()` overrides that release the base's resources first,
    overrides that extend the base result. A member moved into a mixin is fine (super() follows
    the MRO); a member removed or renamed is not.
    """
    for sc in ctx.sub.super_calls:
        if sc.in_package or sc.beside_base or sc.lands_on is None or sc.lands_on == "builtins.object":
            continue
        if sc.name in ctx.new.members:
            continue
        yield ctx.hit(
            f"{sc.method}",
            f"{ctx.sub.name}.{sc.method} calls super().{sc.name}(), which landed on {sc.lands_on}; "
            f"no class of the new base's MRO defines `{sc.name}`: AttributeError",
            old=f"super().{sc.name} -> {sc.lands_on}", new=None, call=sc.name,
        )


@profile_rule(
    id="constructor-forwarding-broken",
    cause="member",
    severity=BREAKING,
    family="construction",
    summary="The base __init__ and the subclass's __init__ no longer fit together.",
    fix=(
        "Add new base parameters as optional with a default and keep `**_kwargs`; never take a name a "
        "subclass may already use."
    ),
    old_base="""
        class Instance:
            def __init__(self, storage=None, settings=None):
                self._storage = storage
                self._settings = settings
    """,
    new_base="""
        class Instance:
            def __init__(self, storage=None):
                self._storage = storage
    """,
    subclass="""
        from pkg.mod import Instance


        class Cloud(Instance):
            def __init__(self, storage=None, **kwargs):
                super().__init__(storage=storage, settings={"telemetry": False})
    """,
    near_miss=dict(
        old_base="""
            class Instance:
                def __init__(self, storage=None):
                    self._storage = storage
        """,
        new_base="""
            class Instance:
                def __init__(self, storage=None, *, defs_state_storage=None):
                    self._storage = storage
        """,
        subclass="""
            from pkg.mod import Instance


            class Cloud(Instance):
                def __init__(self, *args, **kwargs):
                    super().__init__(*args, **kwargs)
        """,
        about=(
            "the base gained an optional keyword, and the subclass forwards *args, **kwargs: the "
            "factory's value reaches the base"
        ),
    ),
)
def constructor_forwarding_broken(ctx: _Ctx) -> Iterator[Hit]:
    """The subclass's `__init__` and the new base `__init__` disagree about the keywords
    dagster's factory passes (it calls the instance class with keywords only: `instance_type`,
    the storages, `settings`, `ref`, ... plus the yaml-derived kwargs).

    Who breaks, when the instance is built:
    - the subclass passes a keyword to `super().__init__` that the base no longer accepts;
    - the subclass's `__init__` has no **kwargs and the base gained a parameter the factory now
      passes: TypeError (unexpected keyword) before anything runs;
    - the subclass takes **kwargs but calls `super().__init__` with explicit arguments only, and
      the base gained a required parameter: it never reaches the base;
    - the subclass declares a keyword-only parameter with the name of a new base parameter: the
      subclass swallows the factory's value and the base never gets it;
    - the subclass passes positional arguments to `super().__init__` and the base reordered its
      positional parameters;
    - a key of the subclass's `config_schema()` that its `__init__` does not take itself (or
      every key, for a subclass without `__init__`) reaches the base `__init__`, which stopped
      accepting unknown keywords (`**_kwargs`).

    A class the instance factory does not build (a storage, a run launcher, a resource: their
    own code calls the constructor) breaks only on a keyword it passes that the base dropped, on
    reordered positional arguments, or on a new required base parameter it does not pass.
    """
    c = ctx.sub.constructor
    new_init = ctx.new.members.get("__init__")
    if new_init is None or new_init.signature is None:
        return
    old_named = _named(c.base_signature)
    new_named = _named(new_init.signature)
    new_varkw = _has_varkw(new_init.signature)
    old_varkw = _has_varkw(c.base_signature)
    loc = new_init.location
    for key in c.forwarded_config_keys:
        if key in new_named or new_varkw or not (key in old_named or old_varkw):
            continue
        yield ctx.hit(
            "__init__",
            f"{ctx.sub.name}.config_schema() declares `{key}`, which dagster's factory passes as a keyword and "
            f"{'its __init__ forwards' if c.defined else 'the inherited base __init__ receives'}; "
            f"the base __init__ no longer accepts unknown keywords: TypeError on construction",
            old=c.base_signature.render("__init__") if c.base_signature else None,
            new=new_init.signature.render("__init__"), new_location=loc, keyword=key,
        )
    if not c.defined:
        return
    for kw in c.passes_keywords:
        if kw in new_named or new_varkw:
            continue
        if c.base_signature is not None and not (kw in old_named or old_varkw):
            continue
        yield ctx.hit(
            "__init__",
            f"{ctx.sub.name}.__init__ passes `{kw}=` to super().__init__, which the base __init__ no longer accepts",
            old=c.base_signature.render("__init__") if c.base_signature else None,
            new=new_init.signature.render("__init__"), new_location=loc, keyword=kw,
        )
    own = {p.name for p in (c.signature.parameters if c.signature else []) if p.kind in KEYWORDABLE}
    own_varkw = _has_varkw(c.signature)
    added = [n for n in new_named if n not in old_named] if c.base_signature is not None else []
    if not ctx.profile.factory_built:
        # built by its own code (a storage's from_config_value, a resource's pydantic fields):
        # nobody passes the base's new keywords, so only a new required one that the subclass's
        # super().__init__ call does not pass breaks it
        for n in added:
            p = new_named[n]
            if getattr(p, "required", False) and n not in c.passes_keywords and not c.forwards_kwargs:
                yield ctx.hit(
                    "__init__",
                    f"the base __init__ now requires `{n}`; {ctx.sub.name}.__init__ does not pass it to "
                    f"super().__init__: TypeError on construction",
                    new=new_init.signature.render("__init__"), new_location=loc, keyword=n,
                )
    elif not own_varkw:
        for n in added:
            if n in own:
                continue
            yield ctx.hit(
                "__init__",
                f"the base __init__ gained `{n}`, which dagster's factory passes as a keyword; "
                f"{ctx.sub.name}.__init__ has no **kwargs and does not accept it: TypeError on construction",
                old=c.signature.render("__init__") if c.signature else None,
                new=new_init.signature.render("__init__"), new_location=loc, keyword=n,
            )
    elif not c.forwards_kwargs:
        for n in added:
            p = new_named[n]
            if getattr(p, "required", False) and n not in c.passes_keywords:
                yield ctx.hit(
                    "__init__",
                    f"the base __init__ now requires `{n}`; {ctx.sub.name}.__init__ does not forward **kwargs "
                    f"to super().__init__ and does not pass it",
                    new=new_init.signature.render("__init__"), new_location=loc, keyword=n,
                )
    for n in c.keyword_only if ctx.profile.factory_built else ():
        if n in new_named and n not in old_named and c.base_signature is not None:
            yield ctx.hit(
                "__init__",
                f"the base __init__ gained `{n}`, which {ctx.sub.name}.__init__ takes as its own keyword-only "
                f"parameter: the factory's value never reaches the base",
                old=c.signature.render("__init__") if c.signature else None,
                new=new_init.signature.render("__init__"), new_location=loc, keyword=n,
            )
    if c.passes_positional and c.base_signature is not None:
        def positional(sig: Signature) -> list[str]:
            ps = [p.name for p in sig.parameters if p.kind in POSITIONAL]
            return ps[1:]

        before = positional(c.base_signature)[: c.passes_positional]
        after = positional(new_init.signature)[: c.passes_positional]
        if before != after:
            yield ctx.hit(
                "__init__",
                f"{ctx.sub.name}.__init__ passes {c.passes_positional} positional argument(s) to super().__init__, "
                f"which were ({', '.join(before)}) and now are ({', '.join(after)})",
                old=c.base_signature.render("__init__"), new=new_init.signature.render("__init__"),
                new_location=loc,
            )


def check_profile(profile: Profile, surface: Surface, *, search_paths: list[str] | None = None,
                  shapes: dict[str, list[CallShape]] | None = None) -> list[Finding]:
    """Every finding of every rule for every subclass in the profile, sorted.

    `search_paths`: where the new base's sources are (the paths the surface was read from);
    with them, the calls the new base makes to overridden methods are checked too (`shapes`:
    those calls, already read by :func:`new_call_shapes`, for checking many profiles of one base).
    """
    if shapes is None and search_paths is not None:
        shapes = new_call_shapes(surface, search_paths)
    out: list[Finding] = []
    rules = all_rules(PROFILE)
    for sub in profile.subclasses.values():
        ctx = _Ctx(profile, sub, surface, shapes)
        for rule in rules:
            out.extend(rule.run(ctx))
    return sort_findings(out)


def _pre_existing_key(f: Finding) -> tuple:
    return f.rule, f.member, f.details.get("subclass"), f.message


def check_profile_change(profile: Profile, old: Surface, new: Surface, *, search_paths: list[str] | None = None,
                         shapes: dict[str, list[CallShape]] | None = None) -> list[Finding]:
    """The findings of :func:`check_profile` on `new` that the change from `old` causes.

    A real package's profile was recorded against one release of the base, which need not be
    the old side (a checkout's `1!0+dev`, a profile shipped for a neighbouring release): what it
    uses and the old side already lacks (the same rule, on the same member, saying the same) is
    no change between the two sides, so it is not reported. A finding counts only where the old
    side has what the profile uses and the new side differs.
    """
    found = check_profile(profile, new, search_paths=search_paths, shapes=shapes)
    if not found:
        return found
    before = {_pre_existing_key(f) for f in check_profile(profile, old)}
    return [f for f in found if _pre_existing_key(f) not in before]


__all__ = ["call_issues", "check_profile", "check_profile_change", "new_call_shapes", "profile_rule",
           "shape_issues"]


def new_call_shapes(surface: Surface, search_paths: list[str]) -> dict[str, list[CallShape]]:
    """How the base read from `search_paths` calls its own methods through self."""
    loader = StaticLoader(list(search_paths))
    target = loader.resolve(surface.cls.path)
    if not isinstance(target, griffe.Class):
        return {}
    return base_call_shapes(Extractor(loader), target)

"""Profile rules on what a subclass overrides: the overridden member gone, bypassed, of another
kind, or with a signature or return the new base's callers can no longer use.
"""

from __future__ import annotations

from typing import Iterator

from compat.model.findings import BREAKING, TYPING, WARNING
from compat.model.surface import CACHED_PROPERTY, CLASS_ATTRIBUTE, PROPERTY, STATICMETHOD
from compat.rules.base import Hit
from compat.model.annotations import is_subtype
from compat.static.profile import reached_from
from compat.static.profile_context import (
    profile_rule,
    _Ctx,
    _group,
    _short,
    _callers_text,
    call_issues,
    shape_issues,
)


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

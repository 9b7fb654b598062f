"""The static half of the hook contract: which overridable members a base method dispatches to.

A method's references are followed through the class's own members (a self-call into a helper
method, a read of a property, a delegate helper the extractor resolved): a reference that moved
into a helper the method still reaches is not lost.
"""

from __future__ import annotations

from compat.model.findings import BREAKING, SUBCLASSES, WARNING
from compat.model.surface import CLASS_ATTRIBUTE, DUNDER, PROTECTED, PUBLIC
from compat.rules.base import BODY_KINDS, DiffContext, kind_label, rule


_PASSES_SELF = "<self passed to code outside the class>"


def _hook_member(ctx: DiffContext, name: str):
    """The new member named ``name`` if it is a hook a subclass can override, else None."""
    old = ctx.old.members.get(name)
    new = ctx.new.members.get(name)
    if old is None or new is None:
        return None  # not a member (an instance attribute), or removed: reported elsewhere
    if new.visibility not in (PUBLIC, PROTECTED):
        return None
    return new


def _lost(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.kind not in BODY_KINDS or new.kind not in BODY_KINDS:
            continue
        before = ctx.reach(ctx.old, name)
        after = ctx.reach(ctx.new, name)
        lost = sorted(h for h in before - after if h != name and _hook_member(ctx, h) is not None)
        if not lost:
            continue
        # new references to things the class does not define (a helper object kept in an
        # instance attribute): the hook may be reached through it, which this analysis cannot see
        # (the hook's own private slot, `_run_launcher` for `run_launcher`, is not such an object:
        # reading it is exactly how a hook gets bypassed)
        slots = {h.lstrip("_") for h in lost}
        opaque = sorted(r for r in after - before if r not in ctx.new.members and r.lstrip("_") not in slots)
        # a new super() call runs an implementation whose references this member does not list
        opaque += sorted(f"super().{s}" for s in set(new.super_calls) - set(old.super_calls))
        # a body that no longer touches self at all hands self to code the analysis does not
        # follow (a module function; explicit calls into the MRO are followed by the
        # extractor); no verdict there
        if not (new.self_refs or new.self_calls or new.super_calls or new.assigns or new.delegates):
            opaque.append(_PASSES_SELF)
        yield name, old, new, lost, opaque


@rule(
    id="hook-no-longer-called",
    severity=BREAKING,
    audience=SUBCLASSES,
    family="hooks",
    summary=(
        "A method no longer reaches `self.<hook>` for an overridable member it used to use "
        "(directly or through helpers it calls via self)."
    ),
    explanation=(
        "Subclasses that override the hook to change this method's behaviour are silently "
        "ignored: the base now reads private state or calls a helper object instead of "
        "dispatching through self."
    ),
    why_subclasses=(
        "This breaks subclasses without breaking any caller: an override of `run_launcher` "
        "works only while every base path goes through `self.run_launcher`."
    ),
    fix="Keep calling self.<hook>(...) (or reading the property) in the base method.",
    example_old="""
        class Instance:
            @property
            def run_launcher(self):
                return self._run_launcher

            def launch_run(self, run_id):
                return self.run_launcher.launch(run_id)
    """,
    example_new="""
        class Instance:
            @property
            def run_launcher(self):
                return self._run_launcher

            def launch_run(self, run_id):
                return self._run_launcher.launch(run_id)
    """,
    near_old="""
        class Instance:
            @property
            def run_launcher(self): ...
            def launch_run(self, run_id):
                return self.run_launcher.launch(run_id)
    """,
    near_new="""
        class Instance:
            @property
            def run_launcher(self): ...
            def _launch(self, run_id):
                return self.run_launcher.launch(run_id)
            def launch_run(self, run_id):
                return self._launch(run_id)
    """,
    near_about="the call moved into a helper the method calls via self: the hook is still reached",
)
def hook_no_longer_called(ctx: DiffContext):
    for name, old, new, lost, opaque in _lost(ctx):
        if opaque:
            continue  # hook-call-obscured
        for hook in lost:
            member = ctx.new.members[hook]
            yield ctx.hit(
                name,
                f"{name!r} no longer uses self.{hook} ({kind_label(member.kind)}); overrides of {hook!r} "
                f"are ignored by it",
                old=old,
                new=new,
                details={"hook": hook},
            )


@rule(
    id="hook-call-obscured",
    cause="dispatch-obscured",
    severity=WARNING,
    audience=SUBCLASSES,
    family="hooks",
    summary=(
        "A method no longer visibly reaches `self.<hook>`, and now goes through something the "
        "static analysis cannot follow: an instance attribute holding a helper, a new `super()` "
        "call, or a body that only hands `self` to outside code (a module function). Explicit "
        "`Base.method(self, ...)` and `type(self).method(...)` calls into the MRO are followed."
    ),
    explanation=(
        "The hook may still be called by the helper (if it is handed the instance and calls "
        "`instance.<hook>`), or may be bypassed; confirm with a behavioural replay of an "
        "override subclass."
    ),
    why_subclasses="Delegating to domain objects is how the refactor moves logic out of the class; each delegation must keep dispatching through the instance.",
    fix=(
        "Call the hook through self in the base method, or make the helper call instance.<hook>; confirm "
        "with a behaviour replay."
    ),
    example_old="""
        class Instance:
            def __init__(self):
                self._runs = None

            @property
            def run_launcher(self):
                return None

            def launch_run(self, run_id):
                return self.run_launcher.launch(run_id)
    """,
    example_new="""
        class Instance:
            def __init__(self):
                self._runs = None
                self._launcher_domain = make_domain(self)

            @property
            def run_launcher(self):
                return None

            def launch_run(self, run_id):
                return self._launcher_domain.launch(run_id)
    """,
    near_old="""
        class Instance:
            @property
            def run_launcher(self):
                return self._run_launcher
            def launch_run(self):
                return self.run_launcher
    """,
    near_new="""
        class Instance:
            @property
            def run_launcher(self):
                return self._run_launcher
            def launch_run(self):
                return self._run_launcher
    """,
    near_about="the hook is plainly bypassed, which the analysis sees (hook-no-longer-called reports it)",
)
def hook_call_obscured(ctx: DiffContext):
    for name, old, new, lost, opaque in _lost(ctx):
        if not opaque:
            continue
        # one finding per method: the hooks share one cause
        yield ctx.hit(
            name,
            f"{name!r} no longer visibly uses " + ", ".join(f"self.{h}" for h in lost) + "; it now goes through "
            + ", ".join(o if o.startswith(("super()", "<")) else f"self.{o}" for o in opaque),
            old=old,
            new=new,
            details={"hooks": lost, "through": opaque},
        )


@rule(
    id="init-hook-added",
    cause="dispatch-gained",
    severity=WARNING,
    audience=SUBCLASSES,
    family="hooks",
    summary="`__init__` now reaches an overridable member it did not use before.",
    explanation=(
        "The base constructor runs before a subclass's own `__init__` has set its state; an "
        "override of that member reading subclass state raises AttributeError during "
        "construction."
    ),
    why_subclasses=(
        "Which members base `__init__` touches is part of the contract: subclasses set their own "
        "attributes only after `super().__init__()` returns."
    ),
    fix="Keep overridable members out of __init__ (set up lazily), or document the hook as called during construction.",
    example_old="""
        class Instance:
            def __init__(self, settings):
                self._settings = settings

            @property
            def run_launcher(self):
                return None
    """,
    example_new="""
        class Instance:
            def __init__(self, settings):
                self._settings = settings
                self.run_launcher

            @property
            def run_launcher(self):
                return None
    """,
    near_old="""
        class Instance:
            def __init__(self):
                self._a = 1
    """,
    near_new="""
        class Instance:
            def __init__(self):
                self._setup()
            def _setup(self):
                self._a = 1
    """,
    near_about="a helper new in this release cannot be overridden by a subclass yet",
)
def init_hook_added(ctx: DiffContext):
    if "__init__" not in ctx.old.members or "__init__" not in ctx.new.members:
        return
    before = ctx.reach(ctx.old, "__init__")
    after = ctx.reach(ctx.new, "__init__")
    old, new = ctx.old.members["__init__"], ctx.new.members["__init__"]
    for hook in sorted(after - before):
        member = ctx.new.members.get(hook)
        if hook not in ctx.old.members:
            continue  # a new helper: no existing subclass overrides it on purpose
        if member is None or member.visibility not in (PUBLIC, PROTECTED, DUNDER) or hook == "__init__":
            continue
        if member.kind == CLASS_ATTRIBUTE:
            continue  # reading a constant has no override-ordering hazard worth a warning
        yield ctx.hit(
            "__init__",
            f"__init__ now uses self.{hook} ({kind_label(member.kind)}) during construction",
            old=old,
            new=new,
            details={"hook": hook},
        )

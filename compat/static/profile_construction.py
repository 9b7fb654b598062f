"""Profile rules on how a subclass is built: overrides that skip the base's set-up or are reached
while the base initialises, ``super()`` targets gone, and constructor arguments no longer
forwarded as they were.
"""

from __future__ import annotations

from typing import Iterator

from compat.model.findings import BREAKING
from compat.model.profile import Constructor
from compat.model.surface import CACHED_PROPERTY, METHOD, PROPERTY, Member, Signature
from compat.rules.base import Hit
from compat.static.profile_context import POSITIONAL, KEYWORDABLE, profile_rule, _Ctx, _named, _has_varkw


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
    yield from _config_keys_refused(ctx, c, new_init)
    if not c.defined:
        return
    yield from _keywords_refused(ctx, c, new_init)
    yield from _new_base_parameters_missed(ctx, c, new_init)
    yield from _positional_arguments_moved(ctx, c, new_init)


def _config_keys_refused(ctx: _Ctx, c: Constructor, new_init: Member) -> Iterator[Hit]:
    """The subclass's `config_schema()` keys that reach the base `__init__` (the subclass's own
    `__init__` does not take them), which stopped accepting unknown keywords."""
    old_named, new_named = _named(c.base_signature), _named(new_init.signature)
    new_varkw, old_varkw = _has_varkw(new_init.signature), _has_varkw(c.base_signature)
    for key in c.forwarded_config_keys:
        if key in new_named or new_varkw or not (key in old_named or old_varkw):
            continue
        yield ctx.hit(
            "__init__",
            f"{ctx.sub.name}.config_schema() declares `{key}`, which dagster's factory passes as a keyword and "
            f"{'its __init__ forwards' if c.defined else 'the inherited base __init__ receives'}; "
            f"the base __init__ no longer accepts unknown keywords: TypeError on construction",
            old=c.base_signature.render("__init__") if c.base_signature else None,
            new=new_init.signature.render("__init__"), new_location=new_init.location, keyword=key,
        )


def _keywords_refused(ctx: _Ctx, c: Constructor, new_init: Member) -> Iterator[Hit]:
    """The keywords the subclass passes to `super().__init__` that the base no longer accepts."""
    old_named, new_named = _named(c.base_signature), _named(new_init.signature)
    new_varkw, old_varkw = _has_varkw(new_init.signature), _has_varkw(c.base_signature)
    for kw in c.passes_keywords:
        if kw in new_named or new_varkw:
            continue
        if c.base_signature is not None and not (kw in old_named or old_varkw):
            continue
        yield ctx.hit(
            "__init__",
            f"{ctx.sub.name}.__init__ passes `{kw}=` to super().__init__, which the base __init__ no longer accepts",
            old=c.base_signature.render("__init__") if c.base_signature else None,
            new=new_init.signature.render("__init__"), new_location=new_init.location, keyword=kw,
        )


def _new_base_parameters_missed(ctx: _Ctx, c: Constructor, new_init: Member) -> Iterator[Hit]:
    """The base `__init__`'s new parameters that never reach it through the subclass: one the
    factory passes and the subclass's `__init__` cannot take or swallows as its own keyword-only
    parameter, or a required one the subclass does not pass up."""
    old_named, new_named = _named(c.base_signature), _named(new_init.signature)
    loc = new_init.location
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


def _positional_arguments_moved(ctx: _Ctx, c: Constructor, new_init: Member) -> Iterator[Hit]:
    """The positional arguments the subclass passes to `super().__init__`, when the base's
    positional parameters they land on changed."""
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
                new_location=new_init.location,
            )

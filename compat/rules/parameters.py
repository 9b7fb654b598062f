"""Parameter-level changes of methods, classmethods and staticmethods.

Design decisions (see docs/rules.md):
- keyword-only parameters have no position: reordering them is not a finding;
- renaming a positional-only parameter is not a finding (nobody can pass it by name);
- a parameter that moves from keyword-only to positional-or-keyword is harmless for callers but
  reported for subclasses (the base may start passing it positionally to overrides).
"""

from __future__ import annotations

from compat.model.findings import BREAKING, BOTH, INFO, SUBCLASSES, TYPING, WARNING
from compat.model.surface import DUNDER, KEYWORD_ONLY, POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, VAR_KEYWORD, VAR_POSITIONAL
from compat.rules.base import KEYWORDABLE, POSITIONAL, DiffContext, norm_expr, rule
from compat.rules.signature import signature_diffs


# dunders that code calls with keywords; every other dunder is called by the interpreter,
# positionally, so renaming its parameters is harmless
KEYWORD_DUNDERS = ("__init__", "__new__", "__init_subclass__", "__call__")
# constructors: type checkers do not hold their overrides to the base's signature
CONSTRUCTORS = ("__init__", "__new__", "__init_subclass__")


def _override_contract(hit, name: str):
    """A base signature that now allows calls an old override refuses: the override is an
    incompatible override under a type checker (breaking, ``breakage: typing``); for constructors,
    which type checkers exempt, the warning that the base or a factory may pass the new shape."""
    if name in CONSTRUCTORS:
        hit.severity = WARNING
    else:
        hit.details["breakage"] = TYPING
        hit.message += "; old overrides are incompatible overrides under a type checker"
    return hit


def _hit(ctx: DiffContext, d, message: str, **details):
    return ctx.hit(d.name, message, old=d.old, new=d.new, details=details)


@rule(
    id="parameter-removed",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary="A named parameter disappeared from a method's signature, and calls that passed it no longer bind.",
    explanation=(
        "Callers that pass it get TypeError (unexpected keyword argument, or too many "
        "positional arguments). Overrides that still declare it as required break as soon as "
        "the base calls them without it. A parameter whose every call still binds to the new "
        "`*args` / `**kwargs` is `parameter-removed-into-kwargs` instead."
    ),
    why_subclasses=(
        "Overrides keep the old signature; `super().method(..., removed=x)` from an override "
        "fails, and the base no longer passes the value the override relies on."
    ),
    fix="Keep the parameter (deprecated, ignored if need be) until callers and overrides have moved off it.",
    example_old="""
        class Instance:
            def get_runs(self, filters=None, cursor=None, limit=None): ...
    """,
    example_new="""
        class Instance:
            def get_runs(self, filters=None, limit=None): ...
    """,
    near_old="""
        class Instance:
            def f(self, *, a=None, **kw): ...
    """,
    near_new="""
        class Instance:
            def f(self, **kw): ...
    """,
    near_about="a keyword-only parameter removed into `**kw`: every call that passed it still binds (parameter-removed-into-kwargs reports it)",
)
def parameter_removed(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p in d.removed:
            if d.absorbed(p):
                continue  # parameter-removed-into-kwargs
            yield _hit(ctx, d, f"parameter {p.name!r} of {d.name!r} was removed", parameter=p.name)


def _absorbed_by(d, p) -> str:
    parts = []
    if p.kind in POSITIONAL:
        parts.append(f"*{d.new_var(VAR_POSITIONAL).name}")
    if p.kind in KEYWORDABLE:
        parts.append(f"**{d.new_var(VAR_KEYWORD).name}")
    return " and ".join(parts)


@rule(
    id="parameter-removed-into-kwargs",
    severity=INFO,
    audience=BOTH,
    family="parameters",
    summary=(
        "A named parameter disappeared, but every call that passed it still binds: by position to "
        "the new `*args`, by keyword to the new `**kwargs`."
    ),
    explanation=(
        "No call fails: the argument now arrives in the variadic parameter. Whether the method "
        "still honours it is behaviour, which the replay and the fuzzer check."
    ),
    why_subclasses=(
        "A subclass `__init__` forwarding `**kwargs` keeps constructing; an override keeping the "
        "named parameter still accepts what the base passed it before."
    ),
    fix="Nothing to do for binding; keep reading the value from *args / **kwargs where it matters.",
    example_old="""
        class Instance:
            def __init__(self, *, settings=None, ref=None, **kwargs): ...
    """,
    example_new="""
        class Instance:
            def __init__(self, *, settings=None, **kwargs): ...
    """,
    near_old="""
        class Instance:
            def f(self, *, a=None): ...
    """,
    near_new="""
        class Instance:
            def f(self): ...
    """,
    near_about="no `**kwargs` is left to take the parameter, so calls passing it fail (parameter-removed reports it)",
)
def parameter_removed_into_kwargs(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p in d.removed:
            if d.absorbed(p):
                yield _hit(
                    ctx,
                    d,
                    f"parameter {p.name!r} of {d.name!r} was removed; {_absorbed_by(d, p)} now receives it",
                    parameter=p.name,
                )


@rule(
    id="parameter-renamed",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary=(
        "A parameter at the same position got a new name (not reported for positional-only "
        "parameters; info for protocol dunders such as `__exit__` that the interpreter calls positionally)."
    ),
    severity_note=(
        "info for a protocol dunder (`__exit__`, `__getitem__`...): the interpreter passes its "
        "arguments by position, so only a rare explicit keyword call notices."
    ),
    explanation=(
        "Callers passing it by keyword get TypeError. When the base calls an overridable "
        "method by keyword, overrides that kept the old name break."
    ),
    why_subclasses=(
        "Overrides copy the base's parameter names; a rename is invisible to positional "
        "callers and tests but breaks every keyword call between base and subclass."
    ),
    fix="Keep the old name (or accept both for a deprecation cycle).",
    example_old="""
        class Instance:
            def get_run_by_id(self, run_id: str): ...
    """,
    example_new="""
        class Instance:
            def get_run_by_id(self, id: str): ...
    """,
    near_old="""
        class Instance:
            def f(self, a, /): ...
    """,
    near_new="""
        class Instance:
            def f(self, b, /): ...
    """,
    near_about="a positional-only parameter cannot be passed by name, so its name is no part of the contract",
)
def parameter_renamed(ctx: DiffContext):
    for d in signature_diffs(ctx):
        # the interpreter calls protocol dunders (__exit__, __getitem__) positionally
        protocol = d.old.visibility == DUNDER and d.name not in KEYWORD_DUNDERS
        for p, q in d.renamed:
            if p.kind == POSITIONAL_ONLY:
                continue  # nobody can pass it by name
            hit = _hit(
                ctx, d, f"parameter {p.name!r} of {d.name!r} was renamed to {q.name!r}", parameter=p.name, new_name=q.name
            )
            if protocol:
                hit.severity = INFO
                hit.message += " (a protocol method: the interpreter passes it by position)"
            yield hit


@rule(
    id="parameter-reordered",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary="A parameter that can be passed positionally now sits at another position.",
    explanation=(
        "Positional callers now bind their arguments to the wrong parameters, usually without "
        "any error. Reordering keyword-only parameters is not reported: they have no position."
    ),
    why_subclasses=(
        "When the base calls a hook positionally, overrides written against the old order "
        "receive swapped values."
    ),
    fix="Keep the positional order; add new parameters at the end or as keyword-only.",
    example_old="""
        class Instance:
            def add_run_tags(self, run_id, new_tags): ...
    """,
    example_new="""
        class Instance:
            def add_run_tags(self, new_tags, run_id): ...
    """,
    near_old="""
        class Instance:
            def f(self, *, a=1, b=2): ...
    """,
    near_new="""
        class Instance:
            def f(self, *, b=2, a=1): ...
    """,
    near_about="keyword-only parameters have no position: reordering them moves nothing",
)
def parameter_reordered(ctx: DiffContext):
    for d in signature_diffs(ctx):
        moves = []
        for p, q in d.all_pairs:
            if p.kind not in POSITIONAL or q.kind not in POSITIONAL:
                continue
            i = d.positional_index(d.old_params, p.name)
            j = d.positional_index(d.new_params, q.name)
            if i != j:
                moves.append(f"{q.name} {i}->{j}")
        if moves:
            yield _hit(
                ctx,
                d,
                f"positional parameters of {d.name!r} shifted: {', '.join(moves)}",
                moves=moves,
            )


_CAN_POSITIONAL = POSITIONAL
_CAN_KEYWORD = KEYWORDABLE


def _capabilities(kind: str) -> set[str]:
    caps = set()
    if kind in _CAN_POSITIONAL:
        caps.add("positional")
    if kind in _CAN_KEYWORD:
        caps.add("keyword")
    return caps


@rule(
    id="parameter-kind-changed",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary="A parameter can no longer be passed the way it could (positional -> keyword-only, keyword -> positional-only).",
    explanation=(
        "Callers using the calling style that was taken away get TypeError."
    ),
    why_subclasses=(
        "Overrides calling `super().method(x)` positionally break when x became keyword-only."
    ),
    fix="Keep accepting the calling style callers used (positional or keyword).",
    example_old="""
        class Instance:
            def launch_run(self, run_id, workspace): ...
    """,
    example_new="""
        class Instance:
            def launch_run(self, run_id, *, workspace): ...
    """,
    near_old="""
        class Instance:
            def f(self, *, a=1): ...
    """,
    near_new="""
        class Instance:
            def f(self, a=1): ...
    """,
    near_about="keyword-only to positional-or-keyword only adds a way to pass it (parameter-kind-relaxed reports it)",
)
def parameter_kind_changed(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p, q in d.all_pairs:
            lost = _capabilities(p.kind) - _capabilities(q.kind)
            if lost:
                yield _hit(
                    ctx,
                    d,
                    f"parameter {q.name!r} of {d.name!r} changed from {p.kind} to {q.kind}: "
                    f"it can no longer be passed {' or '.join(sorted(lost))}ly",
                    parameter=q.name,
                    old_kind=p.kind,
                    new_kind=q.kind,
                )


@rule(
    id="parameter-kind-relaxed",
    severity=BREAKING,
    audience=SUBCLASSES,
    family="parameters",
    severity_note=(
        "breaks typed overrides (`breakage: typing` in the details: mypy and pyright report an "
        "incompatible override), not a run; a warning for constructors (`__init__`, `__new__`), "
        "whose overrides type checkers do not compare."
    ),
    summary="A parameter gained a calling style (keyword-only -> positional-or-keyword, positional-only -> positional-or-keyword).",
    explanation=(
        "Harmless for callers. Overrides that keep the stricter declaration break if the base "
        "starts calling them in the newly allowed style."
    ),
    why_subclasses=(
        "The base is the caller of overrides: what it is now allowed to do to them is what "
        "overrides must now accept."
    ),
    fix="Only call overridable methods in the calling style they always allowed.",
    example_old="""
        class Instance:
            def report_engine_event(self, message, *, run_id=None): ...
    """,
    example_new="""
        class Instance:
            def report_engine_event(self, message, run_id=None): ...
    """,
    near_old="""
        class Instance:
            def f(self, a=1): ...
    """,
    near_new="""
        class Instance:
            def f(self, *, a=1): ...
    """,
    near_about="positional-or-keyword to keyword-only takes a way to pass it away (parameter-kind-changed reports it)",
)
def parameter_kind_relaxed(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p, q in d.all_pairs:
            lost = _capabilities(p.kind) - _capabilities(q.kind)
            gained = _capabilities(q.kind) - _capabilities(p.kind)
            if gained and not lost:
                yield _override_contract(_hit(
                    ctx,
                    d,
                    f"parameter {q.name!r} of {d.name!r} changed from {p.kind} to {q.kind}",
                    parameter=q.name,
                    old_kind=p.kind,
                    new_kind=q.kind,
                ), d.name)


@rule(
    id="parameter-default-removed",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary="An optional parameter became required.",
    explanation="Callers that relied on the default get TypeError (missing argument).",
    why_subclasses="Overrides calling `super().method()` without the argument break.",
    fix="Keep the default.",
    example_old="""
        class Instance:
            def get_backfills(self, status=None): ...
    """,
    example_new="""
        class Instance:
            def get_backfills(self, status): ...
    """,
    near_old="""
        class Instance:
            def f(self, a=1): ...
    """,
    near_new="""
        class Instance:
            def f(self, a=2): ...
    """,
    near_about="the parameter keeps a default; only its value changed (parameter-default-changed reports it)",
)
def parameter_default_removed(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p, q in d.all_pairs:
            if p.default is not None and q.default is None:
                yield _hit(
                    ctx, d, f"parameter {q.name!r} of {d.name!r} lost its default {p.default}", parameter=q.name
                )


@rule(
    id="parameter-default-added",
    severity=BREAKING,
    audience=SUBCLASSES,
    family="parameters",
    severity_note=(
        "breaks typed overrides (`breakage: typing` in the details: mypy and pyright report an "
        "incompatible override), not a run; a warning for constructors (`__init__`, `__new__`), "
        "whose overrides type checkers do not compare."
    ),
    summary="A required parameter became optional.",
    explanation=(
        "Harmless for callers. The base may now call the method without the argument; "
        "overrides that still require it break."
    ),
    why_subclasses="Overrides keep the old, stricter signature; the base relying on the new default breaks them.",
    fix="Keep passing the argument when the base calls the method through self.",
    example_old="""
        class Instance:
            def get_run_records(self, filters): ...
    """,
    example_new="""
        class Instance:
            def get_run_records(self, filters=None): ...
    """,
    near_old="""
        class Instance:
            def f(self, a=1): ...
    """,
    near_new="""
        class Instance:
            def f(self, a=2): ...
    """,
    near_about="the parameter already had a default; only its value changed",
)
def parameter_default_added(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p, q in d.all_pairs:
            if p.default is None and q.default is not None:
                yield _override_contract(_hit(
                    ctx, d, f"parameter {q.name!r} of {d.name!r} gained a default {q.default}", parameter=q.name
                ), d.name)


@rule(
    id="parameter-default-changed",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary="A parameter's default value changed (spelling-only changes such as quotes are ignored).",
    explanation=(
        "Callers that omit the argument silently get different behaviour; overrides that "
        "copied the old default now disagree with the base."
    ),
    why_subclasses="An override's own default wins when the base calls it without the argument, so base and subclass diverge.",
    fix="Keep the old default, or make the change explicit where it matters and announce it.",
    example_old="""
        class Instance:
            def get_runs(self, limit=100): ...
    """,
    example_new="""
        class Instance:
            def get_runs(self, limit=50): ...
    """,
    near_old="""
        class Instance:
            def f(self, a='x', b=(1,2)): ...
    """,
    near_new="""
        class Instance:
            def f(self, a="x", b=( 1, 2 )): ...
    """,
    near_about="quotes and spaces are spelling, not another default",
)
def parameter_default_changed(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p, q in d.all_pairs:
            if p.default is not None and q.default is not None and norm_expr(p.default) != norm_expr(q.default):
                yield _hit(
                    ctx,
                    d,
                    f"default of {q.name!r} in {d.name!r} changed from {p.default} to {q.default}",
                    parameter=q.name,
                )


@rule(
    id="required-parameter-added",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary="A new parameter without a default.",
    explanation=(
        "Every existing caller is missing it (TypeError). When the base passes it to an "
        "overridable method, overrides that lack it break too."
    ),
    why_subclasses="Overrides do not declare the new parameter; the base now passing it raises TypeError inside base code paths.",
    fix="Give the new parameter a default.",
    example_old="""
        class Instance:
            def submit_run(self, run_id): ...
    """,
    example_new="""
        class Instance:
            def submit_run(self, run_id, workspace): ...
    """,
    near_old="""
        class Instance:
            def f(self): ...
    """,
    near_new="""
        class Instance:
            def f(self, a=None): ...
    """,
    near_about="the new parameter has a default, so every old call still binds (optional-parameter-added reports it)",
)
def required_parameter_added(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for q in d.added:
            if q.required:
                yield _hit(ctx, d, f"{d.name!r} has a new required parameter {q.name!r}", parameter=q.name)


@rule(
    id="optional-parameter-added",
    severity=BREAKING,
    audience=SUBCLASSES,
    family="parameters",
    severity_note=(
        "breaks typed overrides (`breakage: typing` in the details: mypy and pyright report an "
        "incompatible override), not a run; a warning for constructors (`__init__`, `__new__`), "
        "whose overrides type checkers do not compare."
    ),
    summary="A new parameter with a default.",
    explanation=(
        "Harmless for callers. A base that passes it to an overridable method (or dagster's "
        "factory passing it to `__init__`) breaks overrides whose signature lacks it and has "
        "no **kwargs."
    ),
    why_subclasses=(
        "This is how a refactor that keeps every public caller working breaks subclasses: the "
        "base starts passing an argument that overrides do not accept."
    ),
    fix=(
        "Do not pass the new argument to overridable methods (or to __init__ through the factory) unless "
        "the override accepts it."
    ),
    example_old="""
        class Instance:
            def get_required_daemon_types(self): ...
    """,
    example_new="""
        class Instance:
            def get_required_daemon_types(self, include_optional=False): ...
    """,
    near_old="""
        class Instance:
            def f(self): ...
    """,
    near_new="""
        class Instance:
            def f(self, *args, **kwargs): ...
    """,
    near_about="`*args` and `**kwargs` are no named parameter an override has to accept",
)
def optional_parameter_added(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for q in d.added:
            if not q.required:
                yield _override_contract(_hit(
                    ctx,
                    d,
                    f"{d.name!r} has a new optional parameter {q.name!r}; overrides without it "
                    "break if the base passes it",
                    parameter=q.name,
                ), d.name)


def _var_removed(ctx: DiffContext, kind: str, label: str):
    for d in signature_diffs(ctx):
        p = d.old_var(kind)
        if p is not None and d.new_var(kind) is None:
            yield _hit(ctx, d, f"{d.name!r} no longer accepts {label}{p.name}", parameter=p.name)


@rule(
    id="var-positional-removed",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary="`*args` was removed from a signature.",
    explanation="Callers passing extra positional arguments get TypeError.",
    why_subclasses="Subclass `__init__(self, *args, ...)` forwarding `super().__init__(*args, **kwargs)` breaks when extra positionals arrive.",
    fix="Keep *args.",
    example_old="""
        class Instance:
            def __init__(self, *args, **kwargs): ...
    """,
    example_new="""
        class Instance:
            def __init__(self, **kwargs): ...
    """,
    near_old="""
        class Instance:
            def f(self, *args): ...
    """,
    near_new="""
        class Instance:
            def f(self, *a): ...
    """,
    near_about="`*args` renamed: the variadic is still there, and its name cannot be passed",
)
def var_positional_removed(ctx: DiffContext):
    yield from _var_removed(ctx, VAR_POSITIONAL, "*")


@rule(
    id="var-keyword-removed",
    severity=BREAKING,
    audience=BOTH,
    family="parameters",
    summary="`**kwargs` was removed from a signature.",
    explanation="Callers passing keywords it used to swallow get TypeError (unexpected keyword argument).",
    why_subclasses=(
        "Intermediate subclasses without `__init__` are constructed with plain base kwargs, "
        "including unknown future ones; the base must keep accepting `**kwargs`."
    ),
    fix="Keep **kwargs (it can be ignored, or warn on unknown keys).",
    example_old="""
        class Instance:
            def __init__(self, instance_type, **_kwargs): ...
    """,
    example_new="""
        class Instance:
            def __init__(self, instance_type): ...
    """,
    near_old="""
        class Instance:
            def f(self, **kwargs): ...
    """,
    near_new="""
        class Instance:
            def f(self, **_kwargs): ...
    """,
    near_about="`**kwargs` renamed: the variadic is still there, and its name cannot be passed",
)
def var_keyword_removed(ctx: DiffContext):
    yield from _var_removed(ctx, VAR_KEYWORD, "**")


_ = POSITIONAL_OR_KEYWORD

"""Annotation changes, compared on the extractor's normalized forms and judged by variance.

``Optional[X]``, ``Union[X, None]`` and ``X | None`` normalize to the same text, so a spelling
change is never a finding. An annotation that is added or dropped is not reported either: it
changes nothing at runtime and only makes type checking stricter or laxer.

A changed annotation breaks nothing at run time; it breaks type-checked code, and which code
depends on the direction: a caller reads returns and passes parameters (a wider return or a
narrower parameter rejects it), an override produces returns and receives parameters (a
narrower return or a wider parameter makes the old override incompatible with the new base,
which mypy and pyright report). The findings are breaking, with ``breakage: typing`` in their
details, and their audience is whoever the direction breaks.
"""

from __future__ import annotations

from compat.model.findings import BOTH, BREAKING, CALLERS, SUBCLASSES, TYPING, WARNING
from compat.model.surface import CLASS_ATTRIBUTE
from compat.rules.base import DiffContext, rule
from compat.rules.signature import comparable_returns, signature_diffs
from compat.model.annotations import relation

# who a changed annotation breaks, by the new type's relation to the old
_RETURN_BREAKS = {"wider": CALLERS, "narrower": SUBCLASSES, "unrelated": BOTH}
_PARAMETER_BREAKS = {"narrower": CALLERS, "wider": SUBCLASSES, "unrelated": BOTH}
_WHO = {CALLERS: "typed callers", SUBCLASSES: "typed overrides", BOTH: "typed callers and overrides"}


def _sets_by_name(ctx: DiffContext) -> bool:
    """One of the surfaces was recorded before annotation names were resolved."""
    return not (ctx.old.generator.get("annotations") and ctx.new.generator.get("annotations"))


@rule(
    id="return-annotation-changed",
    severity=BREAKING,
    audience=BOTH,
    family="annotations",
    summary="The normalized return annotation of a method or property changed to a type that is not the same set of values.",
    audience_note=(
        "callers when the return type widened (`-> bool` to `-> bool | None`), subclasses when it "
        "narrowed (old overrides now return more than the base promises), both when unrelated"
    ),
    explanation=(
        "Nothing fails at run time; under a type checker, callers of a widened return must now "
        "handle values they never saw, and overrides declaring the old, wider return type of a "
        "narrowed one are incompatible overrides (mypy, pyright)."
    ),
    why_subclasses=(
        "Overrides declare the base's return type; a base that narrows it makes every such override "
        "an incompatible override for type checkers."
    ),
    fix="Keep the old return type; narrow it only where no override declares the old one.",
    example_old="""
        class Instance:
            def get_run_by_id(self, run_id: str) -> "DagsterRun | None": ...
    """,
    example_new="""
        class Instance:
            def get_run_by_id(self, run_id: str) -> "RunRecord | None": ...
    """,
    near_old="""
        from typing import Optional
        class Instance:
            def f(self) -> Optional[int]: ...
    """,
    near_new="""
        class Instance:
            def f(self) -> int | None: ...
    """,
    near_about="`Optional[int]` and `int | None` are one type spelled twice",
)
def return_annotation_changed(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.signature is None or new.signature is None or not comparable_returns(old, new):
            continue
        a, b = old.signature.returns_norm, new.signature.returns_norm
        if a is None or b is None or a == b:
            continue
        change = relation(a, b, sets_by_name=_sets_by_name(ctx))
        if change == "same":
            continue
        audience = _RETURN_BREAKS[change]
        hit = ctx.hit(
            name,
            f"return annotation of {name!r} changed from {old.signature.returns} to {new.signature.returns} "
            f"({change}: breaks {_WHO[audience]} under a type checker)",
            old=old,
            new=new,
            details={"old_returns": a, "new_returns": b, "variance": change, "breakage": TYPING},
        )
        hit.audience = audience
        yield hit


@rule(
    id="parameter-annotation-changed",
    severity=BREAKING,
    audience=BOTH,
    family="annotations",
    summary="The normalized annotation of a parameter changed to a type that is not the same set of values.",
    audience_note=(
        "callers when the parameter type narrowed (values they pass are rejected), subclasses when "
        "it widened (old overrides accept less than the base), both when unrelated"
    ),
    explanation=(
        "Callers passing values of the old type are rejected by a type checker when the type "
        "narrowed (and at run time by `check.*` calls, which the behaviour replay sees); "
        "overrides annotated with the old, narrower type of a widened parameter are incompatible "
        "overrides."
    ),
    why_subclasses="Overrides copy the base's parameter types; a wider base parameter makes the override accept less than the base promises.",
    fix="Keep accepting the old type (widen the annotation instead of replacing it) where no override declares it.",
    example_old="""
        class Instance:
            def get_run_records(self, limit: int | None = None): ...
    """,
    example_new="""
        class Instance:
            def get_run_records(self, limit: str | None = None): ...
    """,
    near_old="""
        from typing import AbstractSet
        class Instance:
            def f(self, a: AbstractSet[int]): ...
    """,
    near_new="""
        from collections.abc import Set
        class Instance:
            def f(self, a: Set[int]): ...
    """,
    near_about="`typing.AbstractSet` and `collections.abc.Set` are the same abstract set",
)
def parameter_annotation_changed(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p, q in d.all_pairs:
            if p.annotation_norm is None or q.annotation_norm is None or p.annotation_norm == q.annotation_norm:
                continue
            change = relation(p.annotation_norm, q.annotation_norm, sets_by_name=_sets_by_name(ctx))
            if change == "same":
                continue
            audience = _PARAMETER_BREAKS[change]
            hit = ctx.hit(
                d.name,
                f"annotation of {q.name!r} in {d.name!r} changed from {p.annotation} to {q.annotation} "
                f"({change}: breaks {_WHO[audience]} under a type checker)",
                old=d.old,
                new=d.new,
                details={"parameter": q.name, "old_annotation": p.annotation_norm, "new_annotation": q.annotation_norm,
                         "variance": change, "breakage": TYPING},
            )
            hit.audience = audience
            yield hit


@rule(
    id="attribute-annotation-changed",
    severity=WARNING,
    audience=BOTH,
    family="annotations",
    summary="The normalized annotation of a class attribute changed.",
    explanation="Code reading the attribute may receive a value of another type.",
    why_subclasses="Subclasses that override the class attribute with a value of the old type no longer match the base's declaration.",
    fix="Keep the old type for the attribute, or add a new attribute for the new type.",
    example_old="""
        class Instance:
            retention_days: int = 7
    """,
    example_new="""
        class Instance:
            retention_days: float = 7
    """,
    near_old="""
        from typing import Optional
        class Instance:
            x: Optional[int] = None
    """,
    near_new="""
        class Instance:
            x: int | None = None
    """,
    near_about="`Optional[int]` and `int | None` are one type spelled twice",
)
def attribute_annotation_changed(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.kind != CLASS_ATTRIBUTE or new.kind != CLASS_ATTRIBUTE:
            continue
        if old.annotation_norm is not None and new.annotation_norm is not None and old.annotation_norm != new.annotation_norm:
            yield ctx.hit(
                name,
                f"annotation of class attribute {name!r} changed from {old.annotation} to {new.annotation}",
                old=old,
                new=new,
            )

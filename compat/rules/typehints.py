"""Annotation changes, compared on the extractor's normalized forms only.

``Optional[X]``, ``Union[X, None]`` and ``X | None`` normalize to the same text, so a spelling
change is never a finding. An annotation that is added or dropped is not reported either: it
changes nothing at runtime and only makes type checking stricter or laxer.
"""

from __future__ import annotations

from compat.model.findings import BOTH, WARNING
from compat.model.surface import CLASS_ATTRIBUTE
from compat.rules.base import DiffContext, rule
from compat.rules.signature import comparable_returns, signature_diffs


@rule(
    id="return-annotation-changed",
    severity=WARNING,
    audience=BOTH,
    family="annotations",
    summary="The normalized return annotation of a method or property changed.",
    explanation=(
        "Callers type-checked against the old return type may mishandle the new one; "
        "overrides declaring the old return type are now flagged as incompatible overrides."
    ),
    why_subclasses=(
        "Overrides narrow return types (`get()` returning the subclass); a base widening or "
        "changing its return type makes those overrides incompatible for type checkers."
    ),
    fix="Keep the old return type, or return a subtype of it.",
    example_old="""
        class Instance:
            def get_run_by_id(self, run_id: str) -> "DagsterRun | None": ...
    """,
    example_new="""
        class Instance:
            def get_run_by_id(self, run_id: str) -> "RunRecord | None": ...
    """,
)
def return_annotation_changed(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.signature is None or new.signature is None or not comparable_returns(old, new):
            continue
        a, b = old.signature.returns_norm, new.signature.returns_norm
        if a is not None and b is not None and a != b:
            yield ctx.hit(
                name,
                f"return annotation of {name!r} changed from {old.signature.returns} to {new.signature.returns}",
                old=old,
                new=new,
                details={"old_returns": a, "new_returns": b},
            )


@rule(
    id="parameter-annotation-changed",
    severity=WARNING,
    audience=BOTH,
    family="annotations",
    summary="The normalized annotation of a parameter changed.",
    explanation=(
        "Callers passing values of the old type may now be rejected (at type-check time, or at "
        "runtime by `check.*` calls); overrides annotated with the old type no longer match."
    ),
    why_subclasses="Overrides copy the base's parameter types; a changed type makes the override's signature incompatible.",
    fix="Keep accepting the old type (widen the annotation instead of replacing it).",
    example_old="""
        class Instance:
            def get_run_records(self, limit: int | None = None): ...
    """,
    example_new="""
        class Instance:
            def get_run_records(self, limit: str | None = None): ...
    """,
)
def parameter_annotation_changed(ctx: DiffContext):
    for d in signature_diffs(ctx):
        for p, q in d.all_pairs:
            if p.annotation_norm is not None and q.annotation_norm is not None and p.annotation_norm != q.annotation_norm:
                yield ctx.hit(
                    d.name,
                    f"annotation of {q.name!r} in {d.name!r} changed from {p.annotation} to {q.annotation}",
                    old=d.old,
                    new=d.new,
                    details={"parameter": q.name, "old_annotation": p.annotation_norm, "new_annotation": q.annotation_norm},
                )


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

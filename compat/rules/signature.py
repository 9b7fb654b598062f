"""Matching two signatures of one member parameter by parameter.

Shared by the parameter rules: one :class:`SignatureDiff` per member present on both sides with
comparable signatures (same kind family; both have a signature). Parameters are matched by name
first, then a removed parameter and an added one at the same index and of the same calling
style (positional vs keyword-only) are taken to be a rename.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compat.model.surface import (
    CACHED_PROPERTY,
    CLASSMETHOD,
    KEYWORD_ONLY,
    METHOD,
    PROPERTY,
    STATICMETHOD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    Member,
    Parameter,
)
from compat.rules.base import KEYWORDABLE, POSITIONAL, VARIADIC, DiffContext, bound_params

_CALLABLES = (METHOD, CLASSMETHOD, STATICMETHOD)


@dataclass
class SignatureDiff:
    name: str
    old: Member
    new: Member
    old_params: list[Parameter]
    new_params: list[Parameter]
    pairs: list[tuple[Parameter, Parameter]] = field(default_factory=list)  # same name
    renamed: list[tuple[Parameter, Parameter]] = field(default_factory=list)
    removed: list[Parameter] = field(default_factory=list)
    added: list[Parameter] = field(default_factory=list)

    @property
    def all_pairs(self) -> list[tuple[Parameter, Parameter]]:
        return self.pairs + self.renamed

    def old_var(self, kind: str) -> Parameter | None:
        return next((p for p in self.old_params if p.kind == kind), None)

    def new_var(self, kind: str) -> Parameter | None:
        return next((p for p in self.new_params if p.kind == kind), None)

    def positional_index(self, params: list[Parameter], name: str) -> int | None:
        positional = [p.name for p in params if p.kind in POSITIONAL]
        return positional.index(name) if name in positional else None

    def absorbed(self, p: Parameter) -> bool:
        """Whether every call that passed the removed parameter ``p`` still binds: passed by
        position, the argument now lands in ``*args`` (no named positional of the new signature
        sits at its position); passed by keyword, in ``**kwargs``."""
        if p.kind in POSITIONAL:
            index = self.positional_index(self.old_params, p.name)
            named = sum(1 for q in self.new_params if q.kind in POSITIONAL)
            if self.new_var(VAR_POSITIONAL) is None or index is None or index < named:
                return False
        if p.kind in KEYWORDABLE and self.new_var(VAR_KEYWORD) is None:
            return False
        return True


def _style(p: Parameter) -> str:
    return "keyword" if p.kind == KEYWORD_ONLY else "positional"


def signature_diff(old: Member, new: Member) -> SignatureDiff | None:
    """The parameter matching for a member, or None when the signatures are not comparable."""
    if old.signature is None or new.signature is None:
        return None
    if old.kind not in _CALLABLES or new.kind not in _CALLABLES:
        return None
    old_params = bound_params(old)
    new_params = bound_params(new)
    diff = SignatureDiff(old.name, old, new, old_params, new_params)
    old_named = [p for p in old_params if p.kind not in VARIADIC]
    new_named = [p for p in new_params if p.kind not in VARIADIC]
    new_by_name = {p.name: p for p in new_named}
    old_names = {p.name for p in old_named}
    removed = [p for p in old_named if p.name not in new_by_name]
    added = [p for p in new_named if p.name not in old_names]
    diff.pairs = [(p, new_by_name[p.name]) for p in old_named if p.name in new_by_name]
    for p in list(removed):
        i = old_named.index(p)
        if i < len(new_named):
            q = new_named[i]
            if q in added and _style(p) == _style(q):
                diff.renamed.append((p, q))
                removed.remove(p)
                added.remove(q)
    diff.removed = removed
    diff.added = added
    return diff


def signature_diffs(ctx: DiffContext) -> list[SignatureDiff]:
    cached = getattr(ctx, "_signature_diffs", None)
    if cached is None:
        cached = []
        for _name, old, new in ctx.common:
            d = signature_diff(old, new)
            if d is not None:
                cached.append(d)
        ctx._signature_diffs = cached  # type: ignore[attr-defined]
    return cached


def comparable_returns(old: Member, new: Member) -> bool:
    """Return annotations compare across methods and across properties, not across the two."""
    groups = (_CALLABLES, (PROPERTY, CACHED_PROPERTY))
    return any(old.kind in g and new.kind in g for g in groups)


__all__ = ["SignatureDiff", "signature_diff", "signature_diffs", "comparable_returns", "VAR_KEYWORD", "VAR_POSITIONAL"]

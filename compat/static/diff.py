"""Compare two surfaces with every surface rule of the catalogue."""

from __future__ import annotations

from typing import Iterable

from compat.model.errors import CompatError
from compat.model.findings import Finding, sort_findings
from compat.model.surface import Surface
from compat.rules import RULES, DiffContext, all_rules
from compat.rules.registry import SURFACE


def compare_surfaces(old: Surface, new: Surface, *, rules: Iterable[str] | None = None) -> list[Finding]:
    """Findings for moving from ``old`` to ``new``, sorted (most severe first), deduplicated.

    ``rules`` restricts the run to the given surface rule ids (all of them by default).
    """
    surface_rules = all_rules(SURFACE)
    if rules is None:
        selected = surface_rules
    else:
        unknown = sorted(set(rules) - set(RULES))
        if unknown:
            raise CompatError(f"unknown rule id(s): {', '.join(unknown)}")
        elsewhere = sorted(f"{r} ({RULES[r].layer})" for r in set(rules) if RULES[r].layer != SURFACE)
        if elsewhere:
            raise CompatError(f"not surface rules, so not reported by comparing surfaces: {', '.join(elsewhere)}")
        selected = [r for r in surface_rules if r.id in set(rules)]
    ctx = DiffContext(old, new)
    findings: list[Finding] = []
    seen: set[tuple] = set()
    for rule in selected:
        try:
            produced = rule.run(ctx)
        except Exception as exc:  # a rule bug must not pass for "compatible"
            raise CompatError(f"rule {rule.id} failed on {old.target} -> {new.target}: {type(exc).__name__}: {exc}") from exc
        for f in produced:
            key = (f.rule, f.member, f.message)
            if key in seen:
                continue
            seen.add(key)
            findings.append(f)
    return sort_findings(findings)


__all__ = ["compare_surfaces"]

"""The rule catalogue: one small module per rule family, each rule a plain function.

``RULES`` maps each stable kebab-case id to its :class:`~compat.rules.base.Rule` (severity,
audience, explanation, example); ``docs/rules.md`` is generated from it by
:func:`compat.rules.docs.render_rules_markdown`.
"""

from __future__ import annotations

from compat.rules import attributes, classes, decorators, hooks, members, parameters, typehints  # noqa: F401
from compat.rules.base import RULES, DiffContext, Hit, Rule

FAMILIES = ("members", "parameters", "annotations", "decorators", "attributes", "hooks", "class")


def all_rules() -> list[Rule]:
    """Every rule, in catalogue order (family, then the order the family module defines them)."""
    order = {rule_id: i for i, rule_id in enumerate(RULES)}
    return sorted(RULES.values(), key=lambda r: (FAMILIES.index(r.family), order[r.id]))


__all__ = ["RULES", "Rule", "Hit", "DiffContext", "all_rules", "FAMILIES"]

"""The rule registry and the surface rules.

``RULES`` maps each stable kebab-case id to its :class:`~compat.rules.registry.Rule` (severity,
audience, layer, explanation, fix hint, fixture). The registry is a leaf every producing layer
registers into; surface rules are plain functions, one small module per family in this package,
imported here. The other layers register theirs where they produce the findings; the complete
catalogue, with every layer imported, is :mod:`compat.catalogue` (``docs/rules.md`` is
generated from it by :func:`compat.catalogue.docs.render_rules_markdown`).
"""

from __future__ import annotations

# the surface rule families register on import
from compat.rules import attributes, classes, decorators, hooks, members, parameters, typehints  # noqa: F401
from compat.rules.base import DiffContext, Hit
from compat.rules.registry import LAYER_FAMILIES, LAYERS, RULES, Fixture, Rule, all_rules, register

FAMILIES = LAYER_FAMILIES["surface"]  # the surface rule families, in catalogue order

__all__ = ["RULES", "Rule", "Fixture", "Hit", "DiffContext", "all_rules", "register", "FAMILIES", "LAYERS",
           "LAYER_FAMILIES"]

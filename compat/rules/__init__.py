"""The rule catalogue: every rule the harness reports, whatever layer produces it.

``RULES`` maps each stable kebab-case id to its :class:`~compat.rules.registry.Rule` (severity,
audience, layer, explanation, fix hint, fixture); ``docs/rules.md`` is generated from it by
:func:`compat.rules.docs.render_rules_markdown`. Surface rules are plain functions, one small
module per family in this package; the other layers register theirs where they produce the
findings, and are imported here so that ``RULES`` is complete whichever module was imported
first (they import :mod:`compat.rules.registry`, a leaf, so the cycle through this package is
harmless).
"""

from __future__ import annotations

# every layer's module registers its rules on import
from compat.behaviour import replay  # noqa: F401
from compat.fuzz import differential  # noqa: F401
from compat.gate import accepted  # noqa: F401
from compat.rules import attributes, classes, decorators, hooks, members, parameters, typehints  # noqa: F401
from compat.rules.base import DiffContext, Hit
from compat.rules.registry import LAYER_FAMILIES, LAYERS, RULES, Fixture, Rule, all_rules, register
from compat.static import griffe_compare, profile_checks  # noqa: F401

FAMILIES = LAYER_FAMILIES["surface"]  # the surface rule families, in catalogue order

__all__ = ["RULES", "Rule", "Fixture", "Hit", "DiffContext", "all_rules", "register", "FAMILIES", "LAYERS",
           "LAYER_FAMILIES"]

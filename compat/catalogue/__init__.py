"""The rule catalogue: every rule the harness reports, whatever layer produces it.

The registry (:mod:`compat.rules.registry`) is a leaf that every producing layer registers its
rules into as it is imported; importing this package imports every one of them, so ``RULES`` is
complete here, whichever module was imported first. It sits above the producers: what needs the
whole catalogue (the causes, the reports, the entry points, ``docs/rules.md`` and the fixture
runners, :mod:`compat.catalogue.docs` and :mod:`compat.catalogue.fixtures`) imports it, and a
producer imports only the registry, so importing one producer no longer pulls in the others.
"""

from __future__ import annotations

# every layer's module registers its rules on import
from compat.behaviour import replay  # noqa: F401
from compat.fuzz import differential  # noqa: F401
from compat.gate import accepted  # noqa: F401
from compat.rules import FAMILIES, DiffContext, Hit  # the surface rule families register on import
from compat.rules.registry import LAYER_FAMILIES, LAYERS, RULES, Fixture, Rule, all_rules, register
from compat.static import griffe_compare, profile_checks  # noqa: F401

__all__ = ["RULES", "Rule", "Fixture", "Hit", "DiffContext", "all_rules", "register", "FAMILIES", "LAYERS",
           "LAYER_FAMILIES"]

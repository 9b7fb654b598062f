"""Checks of a recorded subclass profile against the surface of a (new) base class.

A profile says what a real subclass relies on (see :mod:`compat.static.profile`); each rule below
asks whether the new base still provides it. Rules report only what the change of base
introduced: a contract the subclass already broke against the base it was profiled on is not
reported again (the profile records the old base signature or kind next to each use).

A rule is a plain function yielding hits, registered with ``@profile_rule`` in the one rule
registry (:mod:`compat.rules.registry`) together with a toy base pair and a toy subclass that
make it fire, and a near miss that must not.

Every finding has source ``profile`` and audience ``subclasses``; its member is
``Subclass.member`` and ``details["subclass"]`` is the subclass's dotted path.

The rules live in profile_overrides.py, profile_attributes.py and profile_construction.py
(registered in that order, the order the catalogue lists them), what they share in
profile_context.py.
"""

from __future__ import annotations

import griffe

from compat.model.findings import Finding, sort_findings
from compat.model.surface import Surface
from compat.rules.registry import PROFILE, all_rules
from compat.static.extract import Extractor
from compat.static.loader import StaticLoader
from compat.model.profile import CallShape, Profile
from compat.static.profile import base_call_shapes
from compat.static.profile_context import _Ctx
# importing the rule modules registers their rules, in this order
from compat.static import profile_overrides, profile_attributes, profile_construction  # noqa: F401
from compat.static.profile_context import call_issues, profile_rule, shape_issues  # noqa: F401  (re-exported)


def check_profile(profile: Profile, surface: Surface, *, search_paths: list[str] | None = None,
                  shapes: dict[str, list[CallShape]] | None = None) -> list[Finding]:
    """Every finding of every rule for every subclass in the profile, sorted.

    `search_paths`: where the new base's sources are (the paths the surface was read from);
    with them, the calls the new base makes to overridden methods are checked too (`shapes`:
    those calls, already read by :func:`new_call_shapes`, for checking many profiles of one base).
    """
    if shapes is None and search_paths is not None:
        shapes = new_call_shapes(surface, search_paths)
    out: list[Finding] = []
    rules = all_rules(PROFILE)
    for sub in profile.subclasses.values():
        ctx = _Ctx(profile, sub, surface, shapes)
        for rule in rules:
            out.extend(rule.run(ctx))
    return sort_findings(out)


def _pre_existing_key(f: Finding) -> tuple:
    return f.rule, f.member, f.details.get("subclass"), f.message


def check_profile_change(profile: Profile, old: Surface, new: Surface, *, search_paths: list[str] | None = None,
                         shapes: dict[str, list[CallShape]] | None = None) -> list[Finding]:
    """The findings of :func:`check_profile` on `new` that the change from `old` causes.

    A real package's profile was recorded against one release of the base, which need not be
    the old side (a checkout's `1!0+dev`, a profile shipped for a neighbouring release): what it
    uses and the old side already lacks (the same rule, on the same member, saying the same) is
    no change between the two sides, so it is not reported. A finding counts only where the old
    side has what the profile uses and the new side differs.
    """
    found = check_profile(profile, new, search_paths=search_paths, shapes=shapes)
    if not found:
        return found
    before = {_pre_existing_key(f) for f in check_profile(profile, old)}
    return [f for f in found if _pre_existing_key(f) not in before]


def new_call_shapes(surface: Surface, search_paths: list[str]) -> dict[str, list[CallShape]]:
    """How the base read from `search_paths` calls its own methods through self."""
    loader = StaticLoader(list(search_paths))
    target = loader.resolve(surface.cls.path)
    if not isinstance(target, griffe.Class):
        return {}
    return base_call_shapes(Extractor(loader), target)


__all__ = ["call_issues", "check_profile", "check_profile_change", "new_call_shapes", "profile_rule",
           "shape_issues"]

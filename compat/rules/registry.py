"""One registry for every rule the harness reports, whatever layer produces the finding.

Each entry carries the metadata a finding takes (id, severity, audience) and the metadata
docs/rules.md shows (summary, explanation, fix hint, fixtures), so the two cannot disagree:
a finding-producing site builds its findings from its rule's entry (:meth:`Rule.finding`), and
the documentation is generated from the same entries.

Layers, and where their rules are registered:

- ``surface``: two surfaces of the class compared (``compat/rules/*.py``, ``@rule``);
- ``profile``: a recorded subclass profile checked against the new surface
  (``compat/static/profile_overrides.py`` and its siblings, ``@profile_rule``);
- ``behaviour``: recorded traces replayed on the new dagster (``compat/behaviour/replay_rules.py``);
- ``fuzz``: generated or stored programs run on both dagsters (``compat/fuzz/differential.py``);
- ``baseline``: the baseline's own bookkeeping, accepted.json (``compat/gate/accepted.py``);
- ``griffe``: griffe's own breaking-change check, shown side by side (``compat/static/griffe_compare.py``).

Every entry has a fixture: an input its layer's real machinery turns into a finding of that
rule, and a near miss it must not. ``compat.catalogue.fixtures`` runs them; the tests run both for
every rule, so an entry whose fixture stops firing (or whose near miss starts to) fails.

This module is a leaf (it imports only :mod:`compat.model.findings`): every layer registers through
:func:`register` without pulling in the others.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

from compat.model.findings import AUDIENCES, SEVERITIES, Finding

SURFACE = "surface"
PROFILE = "profile"
BEHAVIOUR = "behaviour"
FUZZ = "fuzz"
BASELINE = "baseline"
GRIFFE = "griffe"
LAYERS = (SURFACE, PROFILE, BEHAVIOUR, FUZZ, BASELINE, GRIFFE)  # catalogue order
REPLAY_LAYERS = (BEHAVIOUR, FUZZ)  # layers whose findings only a replay on the new side produces

# The families of each layer, in catalogue order; a rule names one of its layer's families.
LAYER_FAMILIES: dict[str, tuple[str, ...]] = {
    SURFACE: ("members", "parameters", "annotations", "decorators", "attributes", "hooks", "class"),
    PROFILE: ("overrides", "base-state", "construction"),
    BEHAVIOUR: ("replay",),
    FUZZ: ("programs",),
    BASELINE: ("accepted",),
    GRIFFE: ("griffe",),
}

# The cause a finding of a rule belongs to (compat.causes), by default per layer and family; a
# rule whose findings belong elsewhere says so when it registers (``cause=``).
CAUSE_KINDS = (
    "dispatch-lost", "dispatch-gained", "dispatch-obscured", "dispatch", "member", "annotations", "removed", "added",
    "moved", "decorators", "attribute", "name-clash", "exports", "import", "class", "result", "exception", "state",
    "warning", "cell-error", "fuzz", "accepted",
)
DEFAULT_CAUSE: dict[tuple[str, str], str] = {
    (SURFACE, "members"): "member", (SURFACE, "parameters"): "member", (SURFACE, "annotations"): "annotations",
    (SURFACE, "decorators"): "member", (SURFACE, "attributes"): "attribute", (SURFACE, "hooks"): "dispatch-lost",
    (SURFACE, "class"): "class", (PROFILE, "overrides"): "member", (PROFILE, "base-state"): "attribute",
    (PROFILE, "construction"): "member", (BEHAVIOUR, "replay"): "dispatch", (FUZZ, "programs"): "fuzz",
    (BASELINE, "accepted"): "accepted", (GRIFFE, "griffe"): "member",
}

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Fixture:
    """What a rule's layer turns into findings: the input before and after a change.

    - surface, griffe: toy package sources (target ``pkg.mod:Instance``; a line
      ``# pkg/<file>.py`` starts another file);
    - profile: toy base sources (old and new, same convention) and ``subclass``, the source of
      a toy package ``ext`` (module ``ext/sub.py``) subclassing the old base;
    - behaviour: two traces of one cell (old recorded, new replayed);
    - fuzz: a stored program with the old dagster's results, and the new dagster's results;
    - baseline: accepted.json entries, and the findings of the new check (as dicts).
    """

    old: Any
    new: Any
    subclass: str | None = None
    about: str = ""  # for a near miss: the difference it shows, and why the rule stays quiet


def source_fixture(old: str, new: str, subclass: str | None = None, about: str = "") -> Fixture:
    """A fixture of toy sources, dedented (so they can be written indented in place)."""
    return Fixture(_toy(old), _toy(new), _toy(subclass) if subclass is not None else None, " ".join(about.split()))


def _toy(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


@dataclass(frozen=True)
class Rule:
    id: str  # stable kebab-case id
    severity: str  # the usual severity; ``severity_note`` says when a finding differs
    audience: str  # the usual audience; ``audience_note`` says when a finding differs
    layer: str  # one of LAYERS; also the ``source`` of its findings
    family: str  # one of LAYER_FAMILIES[layer]
    summary: str  # what it catches, one line
    explanation: str  # for the person who breaks: who breaks and how
    fix: str  # one line, for the person who made the change
    fixture: Fixture  # fires the rule
    near_miss: Fixture | None = None  # a close change that must not fire it
    check: Callable[[Any], Any] | None = None  # surface and profile: the function yielding hits
    why_subclasses: str = ""  # surface: why it matters for subclasses in particular
    audience_note: str = ""
    severity_note: str = ""
    cause: str = ""  # the kind of cause its findings belong to (one of CAUSE_KINDS)

    # the surface layer's historical names for its fixture pair
    @property
    def example_old(self) -> Any:
        return self.fixture.old

    @property
    def example_new(self) -> Any:
        return self.fixture.new

    def finding(self, member: str, message: str, *, severity: str | None = None, audience: str | None = None,
                old: str | None = None, new: str | None = None, old_location: str | None = None,
                new_location: str | None = None, details: dict[str, Any] | None = None) -> Finding:
        """A finding of this rule: its id, its severity and audience unless this finding's differ
        (as the rule's notes document), and its layer as the source."""
        return Finding(
            rule=self.id,
            severity=severity or self.severity,
            audience=audience or self.audience,
            member=member,
            message=message,
            old=old,
            new=new,
            old_location=old_location,
            new_location=new_location,
            source=self.layer,
            details=dict(details or {}),
        )

    def run(self, ctx: Any) -> list[Finding]:
        """The findings of a surface or profile rule: what its check yields, as findings."""
        if self.check is None:
            raise TypeError(f"rule {self.id} ({self.layer}) has no check function to run")
        out = []
        for hit in self.check(ctx):
            # surface findings have always listed their details in key order
            details = dict(sorted(hit.details.items())) if self.layer == SURFACE else hit.details
            out.append(self.finding(hit.member, hit.message, severity=hit.severity, audience=hit.audience,
                                    old=hit.old, new=hit.new, old_location=hit.old_location,
                                    new_location=hit.new_location, details=details))
        return out


RULES: dict[str, Rule] = {}


def register(
    *,
    id: str,
    severity: str,
    audience: str,
    layer: str,
    family: str,
    summary: str,
    explanation: str,
    fix: str,
    fixture: Fixture,
    near_miss: Fixture | None = None,
    check: Callable[[Any], Any] | None = None,
    why_subclasses: str = "",
    audience_note: str = "",
    severity_note: str = "",
    cause: str = "",
) -> Rule:
    """Add a rule of any layer to ``RULES`` and return its entry; the one way rules get in.

    Text fields are dedented (so they can be written indented in place); an invalid entry
    (unknown severity, audience, layer or family, a second rule with the same id, a missing
    explanation or a fix hint longer than one line) raises ValueError at import time.
    """
    if not _ID.match(id):
        raise ValueError(f"rule {id!r}: ids are kebab-case")
    if id in RULES:
        raise ValueError(f"rule {id} registered twice")
    if severity not in SEVERITIES:
        raise ValueError(f"rule {id}: unknown severity {severity!r}")
    if audience not in AUDIENCES:
        raise ValueError(f"rule {id}: unknown audience {audience!r}")
    if layer not in LAYERS:
        raise ValueError(f"rule {id}: unknown layer {layer!r}")
    if family not in LAYER_FAMILIES[layer]:
        raise ValueError(f"rule {id}: unknown {layer} family {family!r}")
    cause = cause or DEFAULT_CAUSE[(layer, family)]
    if cause not in CAUSE_KINDS:
        raise ValueError(f"rule {id}: unknown cause kind {cause!r}")
    fix = " ".join(fix.split())
    if not fix:
        raise ValueError(f"rule {id}: needs a fix hint")
    explanation = inspect.cleandoc(explanation)
    if not summary.strip() or not explanation:
        raise ValueError(f"rule {id}: needs a summary and an explanation")
    entry = Rule(
        id=id,
        severity=severity,
        audience=audience,
        layer=layer,
        family=family,
        summary=" ".join(summary.split()),
        explanation=explanation,
        fix=fix,
        fixture=fixture,
        near_miss=near_miss,
        check=check,
        why_subclasses=why_subclasses,
        audience_note=audience_note,
        severity_note=" ".join(severity_note.split()),
        cause=cause,
    )
    RULES[id] = entry
    return entry


def all_rules(layer: str | None = None) -> list[Rule]:
    """Every rule (of one layer, when given), in catalogue order: layer, family, then the
    order the defining module registers them."""
    if layer is not None and layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; known: {', '.join(LAYERS)}")
    order = {rule_id: i for i, rule_id in enumerate(RULES)}
    chosen = [r for r in RULES.values() if layer is None or r.layer == layer]
    return sorted(chosen, key=lambda r: (LAYERS.index(r.layer), LAYER_FAMILIES[r.layer].index(r.family), order[r.id]))


__all__ = ["RULES", "LAYERS", "CAUSE_KINDS", "LAYER_FAMILIES", "Fixture", "Rule", "all_rules", "register", "source_fixture",
           "SURFACE", "PROFILE", "BEHAVIOUR", "FUZZ", "BASELINE", "GRIFFE"]

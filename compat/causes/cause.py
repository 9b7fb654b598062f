"""The cause as data: one change in the new code, the findings that show it, and who it affects.

What the grouping (:mod:`compat.causes.grouping`) builds and every report, the witnesses and
the gate read: a :class:`Cause` with its evidence per layer and its plain-data form, and the
real downstream subclasses (:class:`Affected`) it reaches. Nothing here decides which findings
belong together or how severe a change is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compat.model.findings import BREAKING, Finding, sort_findings, typing_only


LAYERS = ("surface", "profile", "behaviour", "fuzz", "perf", "baseline", "griffe")


@dataclass(frozen=True)
class Affected:
    """A real downstream subclass a cause affects: `dagster-cloud 1.11.4: DagsterCloudAgentInstance
    (overrides get_run_by_id)` as reports show it."""

    package: str  # the distribution's name
    cls: str
    version: str = ""
    why: str = ""

    @property
    def head(self) -> str:
        return f"{self.package} {self.version}: {self.cls}" if self.version else f"{self.package}: {self.cls}"

    def __str__(self) -> str:
        return f"{self.head} ({self.why})" if self.why else self.head


@dataclass
class Cause:
    """One change in the new code, with every finding (of any layer) that shows it."""

    id: str  # stable: "<kind>:<subject>"
    kind: str
    subject: str
    severity: str
    title: str
    location: str | None = None  # new code location (where its class now is when the code is gone)
    edited: list[str] = field(default_factory=list)  # base members whose own code carries the change
    reached_from: list[str] = field(default_factory=list)  # base members that reach it (transitive)
    old: str | None = None  # old code
    new: str | None = None  # new code
    corpus: list[str] = field(default_factory=list)  # corpus subclasses that feel it
    downstream: list[Affected] = field(default_factory=list)  # real subclasses it affects
    reproduction: str | None = None
    fix: str = ""
    findings: list[Finding] = field(default_factory=list)
    # behaviour cells that show this cause too but are counted under another one: a cell is
    # filed under its first divergence, and a later member missing from its dispatches is this
    also: list[Finding] = field(default_factory=list)
    # why the severity is what it is, when the policy (docs/severity.md) moved it from the
    # strongest finding's
    why: str | None = None
    # the program that proves a breaking cause on both sides (compat.witness.Witness.to_dict),
    # None when none was run; `unproven` says why a cause that could break is no more than a warning
    witness: dict[str, Any] | None = None
    unproven: str | None = None

    @property
    def typing_only(self) -> bool:
        """A breaking cause whose every breaking finding breaks only under a type checker (or
        that its witness proves under a type checker only)."""
        if self.witness is not None and self.severity == BREAKING:
            return self.witness["proves"] == "typing"
        breaking = [f for f in self.findings if f.severity == BREAKING]
        return self.severity == BREAKING and bool(breaking) and all(typing_only(f) for f in breaking)

    @property
    def packages(self) -> list[str]:
        """Real downstream packages affected (from the profiles), without versions."""
        return sorted({d.package for d in self.downstream})

    def evidence(self) -> dict[str, dict[str, Any]]:
        """Per layer: how many findings, of which rules, and one representative (the first)."""
        out: dict[str, dict[str, Any]] = {}
        for f in sort_findings(self.findings):
            layer = out.setdefault(f.source, {"count": 0, "rules": {}, "example": f})
            layer["count"] += 1
            layer["rules"][f.rule] = layer["rules"].get(f.rule, 0) + 1
        return {k: out[k] for k in sorted(out, key=lambda s: LAYERS.index(s) if s in LAYERS else 99)}

    def evidence_line(self) -> str:
        """`surface 2 (hook-no-longer-called), profile 3, behaviour 312 cells, fuzz 19 programs`."""
        unit = {"behaviour": "cell", "fuzz": "program"}
        parts = []
        for layer, ev in self.evidence().items():
            n = ev["count"]
            word = unit.get(layer, "finding")
            rules = ", ".join(f"{r}" + (f" x{c}" if c > 1 else "") for r, c in sorted(ev["rules"].items()))
            where = ""
            if layer in ("behaviour", "fuzz"):
                subs = {((f.details or {}).get("cell") or {}).get("subclass") if layer == "behaviour"
                        else f.details["subclass"] for f in self.findings if f.source == layer}
                where = f" on {len(subs)} subclass{'es' if len(subs) != 1 else ''}"
            parts.append(f"{layer} {n} {word}{'s' if n != 1 else ''}{where} ({rules})")
        if self.also:
            n = len(self.also)
            parts.append(f"also behaviour {n} cell{'s' if n != 1 else ''} filed under another cause "
                         f"(their first divergence is another member's)")
        return "; ".join(parts)

    def layers(self) -> dict[str, int]:
        """Per layer, how many findings show this cause, the cells filed under another one included."""
        out = {layer: ev["count"] for layer, ev in self.evidence().items()}
        if self.also:
            out["behaviour"] = out.get("behaviour", 0) + len(self.also)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject,
            "severity": self.severity,
            # breaking causes: whether a run breaks, or only type-checked code
            "breakage": ("typing" if self.typing_only else "runtime") if self.severity == BREAKING else None,
            "title": self.title,
            "location": self.location,
            "edited": self.edited,
            "reached_from": self.reached_from,
            "old": self.old,
            "new": self.new,
            "affects": {"corpus": self.corpus, "downstream": [str(d) for d in self.downstream], "callers": self.reached_from},
            "evidence": {layer: {"count": ev["count"], "rules": dict(sorted(ev["rules"].items())),
                                 "example": ev["example"].to_dict()} for layer, ev in self.evidence().items()},
            "why": self.why,
            "witness": self.witness,
            "unproven": self.unproven,
            "reproduction": self.reproduction,
            "fix": self.fix,
            "findings": [_finding_ref(f) for f in sort_findings(self.findings)],
            "also": [_finding_ref(f) for f in sort_findings(self.also)],
        }


def _finding_ref(f: Finding) -> dict[str, str]:
    return {"rule": f.rule, "member": f.member, "severity": f.severity, "source": f.source}


def _names(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")

"""Findings: one difference that can break a caller or a subclass, with who breaks and how.

Signature rules, profile checks and behaviour replay all produce these, so they share one
report, one JSON shape and one set of exit codes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

BREAKING = "breaking"
WARNING = "warning"
INFO = "info"
SEVERITIES = (BREAKING, WARNING, INFO)  # most severe first
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

CALLERS = "callers"
SUBCLASSES = "subclasses"
BOTH = "callers+subclasses"
AUDIENCES = (CALLERS, SUBCLASSES, BOTH)


@dataclass
class Finding:
    rule: str  # stable kebab-case id
    severity: str
    audience: str
    member: str  # the member (or "<class>", or "Subclass.member", or "subclass/scenario")
    message: str  # one line: who breaks and how
    old: str | None = None  # old text (signature, value, trace excerpt)
    new: str | None = None
    old_location: str | None = None
    new_location: str | None = None
    source: str = "surface"  # surface | profile | behaviour | fuzz
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)

    def sort_key(self) -> tuple:
        return (SEVERITY_RANK.get(self.severity, 9), self.source, self.member, self.rule, self.old or "", self.new or "")


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


# --fail-on thresholds: a severity, ``runtime`` (breaking findings that break a run, leaving out
# those that break only under a type checker), or never
RUNTIME = "runtime"
NEVER = "never"
FAIL_ON = (BREAKING, RUNTIME, WARNING, NEVER)
TYPING = "typing"  # details["breakage"] of a finding that breaks type-checked code only


def typing_only(f: Finding) -> bool:
    """The finding breaks code under a type checker (mypy, pyright), not at run time."""
    return f.details.get("breakage") == TYPING


def at_or_above(severity: str, fail_on: str, *, typing: bool = False) -> bool:
    """Whether something of ``severity`` (``typing``: breaking only under a type checker) fails
    the ``fail_on`` threshold."""
    if fail_on == NEVER:
        return False
    if fail_on == RUNTIME:
        return severity == BREAKING and not typing
    return SEVERITY_RANK[severity] <= SEVERITY_RANK[fail_on]


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """True when some finding is at or above the --fail-on threshold (never: always False)."""
    return any(at_or_above(f.severity, fail_on, typing=typing_only(f)) for f in findings)


def summary(findings: Iterable[Finding]) -> dict[str, Any]:
    findings = list(findings)
    by_sev = {s: 0 for s in SEVERITIES}
    by_rule: dict[str, int] = {}
    for f in findings:
        by_sev[f.severity] += 1
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    return {"total": len(findings), "by_severity": by_sev, "by_rule": dict(sorted(by_rule.items()))}

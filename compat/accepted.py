"""Accepted changes: findings a reviewer has declared intended, kept in the baseline.

`accepted.json` lists entries of {rule, member, reason}. A finding that matches an entry does
not fail the gate; an entry that matches no finding is stale and is reported, so the file
never silently accumulates exemptions for things that no longer happen.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from compat import jsonio
from compat.errors import CompatError
from compat.findings import Finding

SCHEMA = "compat.accepted"
VERSION = 1
FILENAME = "accepted.json"


@dataclass(frozen=True)
class Accepted:
    rule: str
    member: str  # exact member, or a glob such as "run_retries_*"
    reason: str

    def matches(self, finding: Finding) -> bool:
        return finding.rule == self.rule and fnmatch.fnmatchcase(finding.member, self.member)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "member": self.member, "reason": self.reason}


def load(baseline: str | Path) -> list[Accepted]:
    path = Path(baseline) / FILENAME
    if not path.exists():
        return []
    data = jsonio.read_json(path, schema=SCHEMA, versions=(VERSION,))
    out = []
    for i, entry in enumerate(data.get("accepted", [])):
        try:
            rule, member, reason = entry["rule"], entry["member"], entry["reason"]
        except (KeyError, TypeError):
            raise CompatError(f"{path}: entry {i} needs rule, member and reason") from None
        if not str(reason).strip():
            raise CompatError(f"{path}: entry {i} ({rule} {member}) has an empty reason; say why it is intended")
        out.append(Accepted(rule, member, reason))
    return out


def save(baseline: str | Path, entries: Iterable[Accepted]) -> Path:
    unique = {(e.rule, e.member): e for e in entries}
    data = {
        "schema": SCHEMA,
        "schema_version": VERSION,
        "accepted": [unique[k].to_dict() for k in sorted(unique)],
    }
    return jsonio.write_json(Path(baseline) / FILENAME, data)


def split(findings: Iterable[Finding], entries: list[Accepted]) -> tuple[list[Finding], list[Finding]]:
    """(open findings, accepted findings)."""
    open_, accepted = [], []
    for f in findings:
        (accepted if any(e.matches(f) for e in entries) else open_).append(f)
    return open_, accepted


def stale(findings: Iterable[Finding], entries: list[Accepted]) -> list[Accepted]:
    findings = list(findings)
    return [e for e in entries if not any(e.matches(f) for f in findings)]

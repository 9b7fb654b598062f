"""Accepted changes: findings a reviewer has declared intended, kept in the baseline.

`accepted.json` lists entries of {rule, member, reason}. A finding that matches an entry does
not fail the gate; an entry that matches no finding is stale and is reported (the
``accepted-entry-stale`` rule, registered here), so the file never silently accumulates
exemptions for things that no longer happen. An entry must name a registered rule: one that no
layer reports could never match, so it is refused when the file is loaded.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from compat.model import jsonio, schemas
from compat.model.errors import CompatError
from compat.model.findings import BOTH, WARNING, Finding
from compat.rules.registry import BASELINE, RULES, Fixture, register

SCHEMA = "compat.accepted"
VERSION = 1
FILENAME = "accepted.json"

ACCEPTED_ENTRY_STALE = register(
    id="accepted-entry-stale",
    severity=WARNING,
    audience=BOTH,
    layer=BASELINE,
    family="accepted",
    summary="An accepted.json entry matches no finding of the check any more.",
    explanation="""
        No code breaks; the gate's reviewers are the ones affected: the baseline still exempts a
        finding that no longer occurs (the change was reverted, or the member renamed again), so
        a later finding with the same rule and member would pass the gate without review.
    """,
    fix="Remove the entry from the baseline's accepted.json (or fix its rule or member pattern).",
    # old: the baseline's accepted.json entries; new: the findings of the check
    fixture=Fixture(
        [{"rule": "parameter-renamed", "member": "add_run_tags", "reason": "tags is the new public name, reviewed"}],
        [{"rule": "parameter-renamed", "severity": "breaking", "audience": "callers+subclasses",
          "member": "add_run_tag", "message": "parameter 'new_tags' of add_run_tag is now 'tags'"}],
    ),
    near_miss=Fixture(
        [{"rule": "parameter-renamed", "member": "add_run_*", "reason": "tags is the new public name, reviewed"}],
        [{"rule": "parameter-renamed", "severity": "breaking", "audience": "callers+subclasses",
          "member": "add_run_tag", "message": "parameter 'new_tags' of add_run_tag is now 'tags'"}],
        about="the entry's member is a glob that still matches the finding: the entry is in use",
    ),
)


@dataclass(frozen=True)
class Accepted:
    rule: str
    member: str  # exact member, or a glob such as "run_retries_*"
    reason: str

    def matches(self, finding: Finding) -> bool:
        return finding.rule == self.rule and fnmatch.fnmatchcase(finding.member, self.member)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "member": self.member, "reason": self.reason}


def load(baseline: str | Path, members: Iterable[str] | None = None) -> list[Accepted]:
    """The entries, checked. A member pattern that exempts everything (`*`, or any glob matching
    every one of ``members``, the recorded surface's) is refused: it would turn an incompatible
    change green without a reviewer naming what was intended."""
    path = Path(baseline) / FILENAME
    names = sorted(set(members or ()))
    if not os.path.lexists(path):
        return []
    data = jsonio.read_json(path, schema=SCHEMA, versions=(VERSION,))
    schemas.check(schemas.AcceptedFile, data, path)
    out = []
    for i, entry in enumerate(data.get("accepted", [])):
        try:
            rule, member, reason = entry["rule"], entry["member"], entry["reason"]
        except (KeyError, TypeError):
            raise CompatError(f"{path}: entry {i} needs rule, member and reason") from None
        if not str(reason).strip():
            raise CompatError(f"{path}: entry {i} ({rule} {member}) has an empty reason; say why it is intended")
        if rule not in RULES:
            raise CompatError(f"{path}: entry {i} ({rule} {member}) names no known rule; see docs/rules.md")
        if _matches_everything(member, names):
            raise CompatError(f"{path}: entry {i} ({rule} {member}) matches every member; name the members "
                              "that were reviewed")
        out.append(Accepted(rule, member, reason))
    return out


def _matches_everything(pattern: str, members: list[str]) -> bool:
    if not pattern.strip("*"):
        return True  # `*`, `**`
    if not any(ch in pattern for ch in "*?["):
        return False  # an exact name: what it names, nothing more
    probes = members + ["<class>", "zz_no_such_member"]
    return all(fnmatch.fnmatchcase(m, pattern) for m in probes) or len(members) > 1 and all(
        fnmatch.fnmatchcase(m, pattern) for m in members)


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


def reasons(findings: Iterable[Finding], entries: list[Accepted]) -> list[tuple[Finding, str]]:
    """The accepted findings among ``findings``, each with the reason of the entry it matches."""
    out = []
    for f in findings:
        entry = next((e for e in entries if e.matches(f)), None)
        if entry is not None:
            out.append((f, entry.reason))
    return out


def stale(findings: Iterable[Finding], entries: list[Accepted]) -> list[Accepted]:
    findings = list(findings)
    return [e for e in entries if not any(e.matches(f) for f in findings)]


def stale_findings(findings: Iterable[Finding], entries: list[Accepted]) -> list[Finding]:
    """One ``accepted-entry-stale`` finding per entry that matches none of ``findings``."""
    return [
        ACCEPTED_ENTRY_STALE.finding(
            entry.member,
            f"accepted.json lists {entry.rule} for {entry.member}, but no such finding occurs any more; remove the entry",
            old=entry.reason,
        )
        for entry in stale(findings, entries)
    ]

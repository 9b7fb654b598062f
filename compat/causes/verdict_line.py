"""The verdict: the first line of every report, and its first word, from the causes.

Kept apart from how causes are built: a report, the gate's summary and a release history all
say `compatible`, `incompatible` or `incomplete` the same way, from causes they already hold.
"""

from __future__ import annotations

from compat.causes.cause import Cause
from compat.model.findings import BREAKING, INFO, SEVERITIES, WARNING, at_or_above


def counts(causes: list[Cause]) -> dict[str, int]:
    by = {s: 0 for s in SEVERITIES}
    for c in causes:
        by[c.severity] += 1
    return by


def verdict(causes: list[Cause], fail_on: str, *, accepted: int = 0, incomplete: tuple[int, int] | None = None) -> str:
    """The first line of every report: `incompatible: 14 causes (9 breaking, 5 warning); 2
    affect dagster-cloud`. With --fail-on never the line still says what the causes amount to.
    Accepted findings are counted (`compatible, 28 accepted: no differences`): an exemption is
    never silent. A run that did not run every unit (``incomplete``: how many ran, of how many)
    never says compatible: `incomplete: 12 of 652 units ran`, then what those found."""
    text = _verdict(causes, fail_on, accepted)
    if incomplete is not None:
        return f"incomplete: {incomplete[0]} of {incomplete[1]} units ran (what ran says {text})"
    return text


def verdict_word(causes: list[Cause], fail_on: str, *, incomplete: tuple[int, int] | None = None) -> str:
    """compatible, incompatible or incomplete: the verdict's first word, decided from the causes
    (with --fail-on never, what they amount to at breaking)."""
    if incomplete is not None:
        return "incomplete"
    threshold = "breaking" if fail_on == "never" else fail_on
    failing = [c for c in causes if at_or_above(c.severity, threshold, typing=c.typing_only)]
    return "incompatible" if failing else "compatible"


def _verdict(causes: list[Cause], fail_on: str, accepted: int) -> str:
    word = verdict_word(causes, fail_on)
    if accepted:
        word += f", {accepted} accepted"
    by = counts(causes)
    serious = [c for c in causes if c.severity != INFO]
    if not causes:
        return f"{word}: no differences"
    detail = ", ".join(f"{by[s]} {s}" for s in (BREAKING, WARNING) if by[s])
    text = f"{word}: {len(serious)} cause{'s' if len(serious) != 1 else ''}"
    text += f" ({detail})" if detail else ""
    if by[INFO]:
        text += f", {by[INFO]} info"
    packages: dict[str, int] = {}
    for c in serious:
        for p in c.packages:
            packages[p] = packages.get(p, 0) + 1
    for p, n in sorted(packages.items()):
        text += f"; {n} affect{'s' if n == 1 else ''} {p}"
    if fail_on == "never":
        text += " (report only: --fail-on never)"
    return text

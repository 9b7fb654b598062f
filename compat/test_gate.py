"""The gate: one test per surface member, per subclass profile, per behaviour cell.

A failing test shows the findings with old and new text, never a stack trace.
"""

from __future__ import annotations

import pytest

from compat.model.findings import Finding
from compat.gate.gate import Gate, explain
from compat.model.text import escape_unsafe


def _judge(gate: Gate, findings: list[Finding], record) -> None:
    record(findings)
    bad, _ = gate.failing(findings)
    if bad:
        pytest.fail(explain(bad, gate.path_prefix, gate.target.partition(":")[0].split(".")[0]), pytrace=False)


def test_member(compat_gate: Gate, compat_member: str, compat_record):
    """The member keeps every signature, kind, attribute and hook its users rely on."""
    _judge(compat_gate, compat_gate.for_member(compat_member), compat_record)


def test_profile(compat_gate: Gate, compat_profile: str, compat_record):
    """A protected subclass package still fits the installed base class."""
    _judge(compat_gate, compat_gate.profile_findings[compat_profile], compat_record)


def test_behaviour(compat_gate: Gate, compat_cell: str, compat_record, compat_replayer):
    """A recorded (subclass, scenario) cell replays with identical results and dispatch."""
    _judge(compat_gate, compat_replayer.replay(compat_cell), compat_record)


def test_fuzz_program(compat_gate: Gate, compat_program: str, compat_record, compat_program_replayer):
    """A stored generated program gives every step the result recorded on the old dagster."""
    _judge(compat_gate, compat_program_replayer.replay(compat_program), compat_record)


def test_accepted_entries_are_current(compat_gate: Gate, compat_record):
    """Every entry of accepted.json still matches a finding (behaviour entries excepted)."""
    stale = compat_gate.stale_accepted()
    if stale:
        pytest.fail(escape_unsafe(
            "\n".join(f"stale accepted entry: {e.rule} {e.member} ({e.reason}); remove it" for e in stale)),
            pytrace=False,
        )

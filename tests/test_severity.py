"""The severity policy (docs/severity.md): a cause's severity follows what its evidence shows,
not only the strongest rule that fired. Findings are built the way the behaviour replay builds
them, with the structured details the policy reads."""

from __future__ import annotations

import pytest

from compat.behaviour import replay
from compat.causes import build_causes

CELL = {"subclass": "spy", "scenario": "runs_lifecycle", "storage": "memory"}


def _step_exception(step: str, old_type: str | None, new_type: str | None, severity: str | None = None):
    return replay._finding(replay.RULE_EXCEPTION, CELL, f"step {step!r} changed", f"{old_type}: old",
                           f"{new_type}: new" if new_type else "[]", severity=severity, step=step,
                           old_type=old_type, new_type=new_type)


def _dispatch(change: str, member: str, old_call=None, new_call=None):
    extra = {"old_call": old_call, "new_call": new_call} if old_call is not None else {}
    return replay._finding(replay.RULE_DISPATCH, CELL, f"`{member}` {change}", "> old", "> new",
                           audience="subclasses", change=change, member_name=member, members_missing=[],
                           members_added=[member] if change == "added" else [], caller="launch_run",
                           caller_class="Instance", caller_via="self", **extra)


def _one(findings):
    [cause] = build_causes(findings)
    return cause


def test_a_crash_that_became_a_result_is_info():
    cause = _one([_step_exception("ticks", "AttributeError", None)])
    assert cause.id == "exception:ticks"
    assert cause.severity == "info" and "bug fix" in cause.why


@pytest.mark.parametrize("refusal", ["CheckError", "DagsterRunNotFoundError", "DagsterInvalidInvocationError"])
def test_a_refusal_that_became_a_result_still_breaks(refusal):
    """A check or a not-found error raised on purpose is part of the contract: a method that now
    swallows it and returns None breaks the callers that relied on the refusal."""
    cause = _one([_step_exception("add_backfill", refusal, None)])
    assert cause.severity == "breaking" and cause.why is None


def test_a_message_only_exception_change_is_info_and_its_fix_does_not_ask_to_keep_the_type():
    cause = _one([_step_exception("bad_event", "CheckError", "CheckError", severity="warning")])
    assert cause.severity == "info"
    assert "keep the same type" not in cause.fix.lower() and "same exception type" in cause.fix
    assert cause.to_dict()["why"] == cause.why


def test_another_exception_type_still_breaks():
    cause = _one([_step_exception("bad_event", "CheckError", "ValueError")])
    assert cause.severity == "breaking" and cause.why is None


def test_a_gained_dispatch_is_a_warning_without_a_witness():
    cause = _one([_dispatch("added", "run_storage")])
    assert cause.id == "dispatch-gained:run_storage"
    assert cause.severity == "warning" and "witness" in cause.why


def test_keyword_to_positional_forwarding_is_a_warning():
    old = {"args": [], "kwargs": {"dagster_event": "DagsterEvent"}}
    new = {"args": ["DagsterEvent"], "kwargs": {}}
    cause = _one([_dispatch("arguments", "report_dagster_event", old, new)])
    assert cause.severity == "warning" and "**kwargs" in cause.why


def test_positional_to_keyword_forwarding_breaks():
    old = {"args": ["DagsterEvent"], "kwargs": {}}
    new = {"args": [], "kwargs": {"dagster_event": "DagsterEvent"}}
    cause = _one([_dispatch("arguments", "report_dagster_event", old, new)])
    assert cause.severity == "breaking" and "TypeError" in cause.why


def test_a_worker_that_cannot_import_a_dropped_export_is_a_finding_of_that_export():
    """A copy of dagster whose `dagster._core.instance` no longer re-exports `InstanceType`: the
    workers that import it fail; that failure joins the cause of the removed export."""
    from compat.rules import RULES

    removed = RULES["export-removed"].finding("dagster._core.instance.InstanceType", "export removed",
                                              old="dagster._core.instance.InstanceType", new="(unresolved)")
    failed = replay.import_finding({"exception": "ImportError: cannot import name 'InstanceType' from "
                                                 "'dagster._core.instance'", "module": None, "line": None})
    assert failed.details["missing_name"] == "InstanceType"
    causes = build_causes([removed, failed])
    assert [c.id for c in causes] == ["exports:dagster._core.instance"]
    assert failed in causes[0].findings and causes[0].severity == "breaking"


def test_a_behaviour_cell_witnesses_a_break_only_where_the_policy_says_it_is_one():
    from compat.tools import witness

    gained = _one([_dispatch("added", "run_storage")])
    assert witness.cell_witness(gained) is None  # a gained dispatch by itself proves nothing
    witness.judge(gained, None, "no witness of a gained dispatch is written yet")
    assert gained.severity == "warning" and gained.unproven
    lost = _one([replay._finding(replay.RULE_DISPATCH, CELL, "`create_run` is gone", "  a\n> create_run:call(str)",
                                 "  a\n> (nothing)", audience="subclasses", change="missing", member_name="create_run",
                                 members_missing=["create_run"], members_added=[], caller="launch_run",
                                 caller_class="Instance", caller_via="self")])
    w = witness.cell_witness(lost)
    assert w is not None and w.proves == "runtime" and w.old == "create_run:call(str)" and w.new == "(nothing)"


@pytest.mark.parametrize("version", [1, 2])
def test_a_scenario_that_crashed_on_the_old_side_for_a_missing_member_is_info(version):
    """The scenario calls a member the old release does not have: there it stops with
    AttributeError, on the new one it runs. A member was added; nothing that worked breaks."""
    old = replay._toy_trace({"a": 1}, version=version)
    new = replay._toy_trace({"a": 1, "b": 2}, version=version)
    message = "'SpyDagsterInstance' object has no attribute 'get_existing_dynamic_partitions'"
    old["exception"] = ({"type": "AttributeError", "message": message, "bases": ["Exception"]} if version > 1
                        else f"AttributeError: {message}")
    cause = _one(replay.divergences(old, new))
    assert cause.id == "exception:runs_lifecycle" and cause.severity == "info", (cause.severity, cause.why)
    assert "member the old side lacked" in cause.why


def test_a_state_read_that_fails_on_both_sides_with_another_message_is_info():
    """After `dispose()` reading a storage fails on both releases, with sqlite's or a mapping's
    error: the message differs, nothing a subclass relies on does."""
    old = replay._toy_trace({"a": 1}, state={"asset_keys": {"__exception__": {"type": "KeyError", "message": "asset_keys"}}})
    new = replay._toy_trace({"a": 1}, state={"asset_keys": {"__exception__": {
        "type": "OperationalError", "message": "no such table: asset_keys"}}})
    cause = _one(replay.divergences(old, new))
    assert cause.id == "state:state.asset_keys.__exception__.message" and cause.severity == "info", cause.id
    assert "could not be read on either side" in cause.why

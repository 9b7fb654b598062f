"""The severity policy (docs/severity.md): a cause's severity follows what its evidence shows,
not only the strongest rule that fired. Findings are built the way the behaviour replay builds
them, with the structured details the policy reads."""

from __future__ import annotations

import pytest

from compat.behaviour import compare, replay, replay_rules
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
    failed = compare.import_finding({"exception": "ImportError: cannot import name 'InstanceType' from "
                                                 "'dagster._core.instance'", "module": None, "line": None})
    assert failed.details["missing_name"] == "InstanceType"
    causes = build_causes([removed, failed])
    assert [c.id for c in causes] == ["exports:dagster._core.instance"]
    assert failed in causes[0].findings and causes[0].severity == "breaking"


def test_a_behaviour_cell_witnesses_a_break_only_where_the_policy_says_it_is_one():
    from compat import witness

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
    old = replay_rules._toy_trace({"a": 1}, version=version)
    new = replay_rules._toy_trace({"a": 1, "b": 2}, version=version)
    message = "'SpyDagsterInstance' object has no attribute 'get_existing_dynamic_partitions'"
    old["exception"] = ({"type": "AttributeError", "message": message, "bases": ["Exception"]} if version > 1
                        else f"AttributeError: {message}")
    cause = _one(replay.divergences(old, new))
    assert cause.id == "exception:runs_lifecycle" and cause.severity == "info", (cause.severity, cause.why)
    assert "member the old side lacked" in cause.why


def test_a_scenario_step_that_could_not_import_a_name_on_the_old_side_is_info():
    """A step reaching for a module or name the old release does not have (1.13's caching
    partitions loader, on 1.11.4) stops with ImportError there and runs on the new one: something
    was gained, nothing that worked breaks."""
    old = replay_rules._toy_trace({"a": 1}, version=2)
    new = replay_rules._toy_trace({"a": 1, "b": 2}, version=2)
    old["exception"] = {"type": "ImportError", "bases": ["Exception"],
                        "message": "cannot import name 'CachingDynamicPartitionsLoader' from 'dagster._core.instance.types'"}
    cause = _one(replay.divergences(old, new))
    assert cause.severity == "info", (cause.severity, cause.why)


def test_a_state_read_that_fails_on_both_sides_with_another_message_is_info():
    """After `dispose()` reading a storage fails on both releases, with sqlite's or a mapping's
    error: the message differs, nothing a subclass relies on does."""
    old = replay_rules._toy_trace({"a": 1}, state={"asset_keys": {"__exception__": {"type": "KeyError", "message": "asset_keys"}}})
    new = replay_rules._toy_trace({"a": 1}, state={"asset_keys": {"__exception__": {
        "type": "OperationalError", "message": "no such table: asset_keys"}}})
    cause = _one(replay.divergences(old, new))
    assert cause.id == "state:state.asset_keys.__exception__.message" and cause.severity == "info", cause.id
    assert "could not be read on either side" in cause.why


def _trace(cell, *, state, result=None, dispatch=()):
    return {"cell": dict(cell), "schema_version": 2, "state": state, "result": result or {},
            "meta": {"spied_members": ["create_run", "has_dynamic_partition", "handle_new_event"]}, "dispatch": list(dispatch)}


def test_a_state_that_only_gains_a_key_is_a_warning_and_one_that_changes_still_breaks():
    """A run that now carries a tag it did not is more to read, not another value (1.13's
    `dagster/code_location`); a tag whose value changed is a break."""
    old = _trace(CELL, state={"runs": [{"tags": {"a": "1"}}]})
    gained = replay.divergences(old, _trace(CELL, state={"runs": [{"tags": {"a": "1", "where": "here"}}]}))
    changed = replay.divergences(old, _trace(CELL, state={"runs": [{"tags": {"a": "2", "where": "here"}}]}))
    assert _one(gained).severity == "warning" and "in addition" in _one(gained).why
    assert _one(changed).severity == "breaking"


def test_a_state_holding_the_same_records_in_another_order_is_a_warning_and_a_lost_one_still_breaks():
    """1.13 writes a run's planned materializations before its planned checks, where 1.11 wrote
    each check after its asset: the same events, as many, in another order. One event fewer, or
    one in place of another, is a break."""
    planned = ["PLANNED@a", "CHECK_PLANNED@a_check", "PLANNED@b", "RUN_START"]
    old = _trace(CELL, state={"event_log": [["run", planned]]})
    reordered = replay.divergences(old, _trace(CELL, state={"event_log": [["run", [
        "PLANNED@a", "PLANNED@b", "CHECK_PLANNED@a_check", "RUN_START"]]]}))
    lost = replay.divergences(old, _trace(CELL, state={"event_log": [["run", [
        "PLANNED@a", "PLANNED@b", "PLANNED@b", "RUN_START"]]]}))
    # with a run that also gained a tag (1.13's code location), as in the real cell
    tagged = replay.divergences(_trace(CELL, state={"event_log": [["run", planned]], "runs": [{"tags": {}}]}), _trace(
        CELL, state={"event_log": [["run", ["PLANNED@a", "PLANNED@b", "CHECK_PLANNED@a_check", "RUN_START"]]],
                     "runs": [{"tags": {"where": "here"}}]}))
    assert _one(reordered).severity == "warning" and "another order" in _one(reordered).why
    assert _one(tagged).severity == "warning"
    assert _one(lost).severity == "breaking"


def _event(member, caller, via):
    return {"member": member, "kind": "call", "args": ["str"], "kwargs": {}, "caller": caller,
            "caller_class": "DynamicPartitionsDefinition" if via == "external" else "DagsterInstance", "via": via}


def test_fewer_calls_from_dagsters_own_code_outside_the_instance_are_a_warning_not_a_lost_dispatch():
    """`has_dynamic_partition` still runs from `DynamicPartitionsDefinition.has_partition_key`,
    only once instead of twice: overrides are not skipped."""
    has, emit = _event("has_dynamic_partition", "has_partition_key", "external"), _event("handle_new_event", "emit", "external")
    twice = [has, emit, has, emit]
    found = replay.divergences(_trace(CELL, state={}, dispatch=twice), _trace(CELL, state={}, dispatch=[has, emit, emit]))
    cause = _one(found)
    assert cause.kind == "dispatch-lost" and cause.severity == "warning"
    assert cause.title == "dagster calls `has_dynamic_partition` fewer times from `DynamicPartitionsDefinition.has_partition_key`"
    gone = replay.divergences(_trace(CELL, state={}, dispatch=twice), _trace(CELL, state={}, dispatch=[emit, emit]))
    assert _one(gone).severity == "breaking"


def test_a_divergence_only_an_overriding_subclass_shows_is_filed_under_the_dispatch_it_lost():
    """The corpus's `create_run` override tags its runs; when the base stops reaching it the runs
    lack the tag. The plain subclass shows no such change, so the tag is the lost dispatch's
    consequence, not a cause of its own. A change the plain subclass shows too stays its own."""
    tagged = {"subclass": "spy:create-run-tags", "scenario": "runs_lifecycle", "storage": "memory"}
    calls = [_event("create_run", "create_run_for_job", "self")]
    old = _trace(tagged, state={"runs": [{"tags": {"origin": "corpus", "x": "1"}}]}, dispatch=calls)
    new = _trace(tagged, state={"runs": [{"tags": {"x": "2"}}]}, dispatch=[])
    plain_old = _trace(CELL, state={"runs": [{"tags": {"x": "1"}}]}, dispatch=calls)
    plain_new = _trace(CELL, state={"runs": [{"tags": {"x": "2"}}]}, dispatch=calls)
    causes = build_causes(replay.divergences(old, new) + replay.divergences(plain_old, plain_new))
    by_id = {c.id: c for c in causes}
    assert set(by_id) == {"dispatch-lost:create_run", "state:state.runs[].tags.x"}
    assert len(by_id["state:state.runs[].tags.x"].findings) == 1  # the plain cell's own change


def test_a_storage_call_the_instance_makes_fewer_times_is_a_warning():
    """dagster 1.13 asks a custom event log storage `has_dynamic_partition` once where 1.11.4
    asked twice; a call it no longer makes at all still breaks the storage's contract."""
    ask, store = ["event_log_storage", "has_dynamic_partition", ["regions", "eu"], {}], \
        ["event_log_storage", "store_event", ["<EventLogEntry>"], {}]
    old = {**_trace(CELL, state={}), "forwarded": [ask, store, ask, store]}
    fewer = _one(replay.divergences(old, {**_trace(CELL, state={}), "forwarded": [ask, store, store]}))
    assert fewer.severity == "warning" and fewer.title == "dagster calls `event_log_storage.has_dynamic_partition` fewer times"
    never = _one(replay.divergences(old, {**_trace(CELL, state={}), "forwarded": [store, store]}))
    assert never.severity == "breaking"


def test_a_dispatch_change_that_only_adds_or_reorders_calls_is_a_warning():
    """dagster 1.13's SqlEventLogStorage opens an index transaction for asset tags: the
    Postgres storage's `index_transaction` and `index_connection` overrides now also run there,
    and every call they got before they still get. Nothing an override relied on is skipped."""
    found = [_dispatch("added", "index_transaction"), _dispatch("reordered", "index_connection")]
    causes = build_causes(found)
    assert causes and all(c.severity == "warning" for c in causes)
    assert build_causes([_dispatch("missing", "index_connection")])[0].severity == "breaking"


def test_a_finding_counts_for_what_the_policy_judged_its_cause():
    """The gate judges a cell as it runs, by the policy: a crash that became a result fails no
    unit, a refusal that became a result does; and within a whole run every finding of a cause
    the policy moved counts for the cause's severity."""
    from compat.causes import effective_severities, policy_severity

    crash, refusal = _step_exception("ticks", "AttributeError", None), _step_exception("add", "CheckError", None)
    assert crash.severity == "breaking" and policy_severity(crash) == "info"
    assert policy_severity(refusal) == "breaking"
    assert policy_severity(_dispatch("added", "run_storage")) == "warning"
    effective = effective_severities([crash, refusal], None, None)
    assert effective[id(crash)] == "info" and effective[id(refusal)] == "breaking"

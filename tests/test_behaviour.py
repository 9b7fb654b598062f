"""Behavioural record and replay, on real dagster: recording, replay, normalization, the spy,
worker failures, and a real cross-version replay (dagster 1.11.4 recorded, installed replayed)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import textwrap
import time
from pathlib import Path

import pytest

from compat.behaviour import replay
from compat.model.errors import CompatError
from compat.model.jsonio import write_json
from compat.behaviour.scenarios import DOMAINS, SCENARIOS
from compat.model.trace import normalize_trace

PY = sys.executable
SUBS = ["base", "spy"]
SCEN = ["runs_lifecycle", "partitions_dynamic", "execute_failing_step", "configuration_custom"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("baseline")
    replay.record(PY, str(out), SUBS, SCEN, jobs=2)
    return out


def test_scenarios_cover_every_domain():
    assert {s.domain for s in SCENARIOS.values()} == set(DOMAINS)
    assert {st for s in SCENARIOS.values() for st in s.storages} == {"memory", "sqlite"}


def test_record_is_byte_identical(recorded, tmp_path):
    again = tmp_path / "again"
    paths = replay.record(PY, str(again), SUBS, SCEN, jobs=1)
    first = sorted((recorded / "traces").glob("*.json"))
    assert [p.name for p in first] == [p.name for p in paths]
    assert len(first) == len(replay.plan_cells(SUBS, SCEN))
    for a, b in zip(first, paths):
        assert a.read_bytes() == b.read_bytes(), a.name
    # nothing but traces, no temp files left behind
    assert sorted(p.name for p in (again / "traces").iterdir()) == [p.name for p in paths]


def test_replay_same_version_is_clean(recorded):
    assert replay.replay(str(recorded), PY, jobs=2) == []


def _edit(path: Path, fn) -> None:
    data = json.loads(path.read_text())
    fn(data)
    write_json(path, data)


def test_altered_baseline_reports_the_right_rule(recorded, tmp_path):
    base = tmp_path / "altered"
    shutil.copytree(recorded, base)
    t = base / "traces"

    def result(d):  # a recorded value
        d["result"]["count"] = d["result"]["count"] + 1

    def step_exc(d):  # a step that raised now "returned"
        d["result"]["has_kiwi"] = {"__exception__": {"type": "KeyError", "message": "kiwi"}}

    def state(d):  # a tag in the final storage state
        d["state"]["runs"][0]["tags"]["team"] = "zzz"

    def dispatch(d):  # the base used to call an overridable hook here
        d["dispatch"].insert(1, {**d["dispatch"][1], "member": "create_run", "kind": "call"})

    _edit(t / "base__runs_lifecycle__memory.json", result)
    _edit(t / "base__partitions_dynamic__sqlite.json", step_exc)
    _edit(t / "base__runs_lifecycle__sqlite.json", state)
    _edit(t / "spy__execute_failing_step__memory.json", dispatch)
    findings = replay.replay(str(base), PY, jobs=2)
    by_member = {f.member: f for f in findings}
    assert set(by_member) == {
        "base/runs_lifecycle/memory", "base/partitions_dynamic/sqlite",
        "base/runs_lifecycle/sqlite", "spy/execute_failing_step/memory",
    }
    assert by_member["base/runs_lifecycle/memory"].rule == "behaviour-result-changed"
    assert by_member["base/partitions_dynamic/sqlite"].rule == "behaviour-exception-changed"
    assert by_member["base/runs_lifecycle/sqlite"].rule == "behaviour-state-changed"
    disp = by_member["spy/execute_failing_step/memory"]
    assert disp.rule == "behaviour-dispatch-changed"
    assert disp.details["change"] == "missing" and disp.details["member_name"] == "create_run"
    assert "create_run" in disp.old and disp.severity == "breaking"
    assert all(f.source == "behaviour" for f in findings)


def test_spy_records_dispatch_from_base_methods(tmp_path):
    import dagster as dg
    from dagster._core.instance import DagsterInstance

    from compat.worker import spy
    from compat.corpus import load_class, make_instance

    @dg.op
    def one():
        return 1

    @dg.job
    def tiny():
        one()

    Spy = spy.spy_class(DagsterInstance)
    assert issubclass(Spy, DagsterInstance) and {"create_run", "run_storage", "telemetry_enabled"} <= set(Spy.__compat_wrapped__)
    with DagsterInstance.ephemeral(tempdir=str(tmp_path)) as inst:
        spy.attach(inst)
        spy.RECORDER.start()
        try:
            run = inst.create_run_for_job(tiny, tags={"a": "b"})
            inst.report_run_failed(run, message="boom")
        finally:
            events = spy.RECORDER.stop()
        assert inst.get_run_by_id(run.run_id).tags["a"] == "b"
    outer = [e for e in events if e["member"] == "create_run_for_job"][0]
    assert outer["via"] == "external" and outer["args"] == ["JobDefinition"] and outer["kwargs"] == {"tags": "dict"}
    chain = [(e["member"], e["caller"], e["via"]) for e in events
             if e["member"] in ("report_dagster_event", "handle_new_event", "should_store_event")]
    assert chain[-3:] == [
        ("report_dagster_event", "report_run_failed", "self"),
        ("handle_new_event", "report_dagster_event", "self"),
        ("should_store_event", "handle_new_event", "self"),
    ]
    hook = [e for e in events if e["member"] == "handle_new_event"][-1]
    assert hook["args"] == ["EventLogEntry"] and "batch_metadata" in hook["kwargs"]
    assert hook["caller_class"] in ("DagsterInstance", "EventMethods")

    # on top of a corpus class: the corpus override still wins and the dispatch is recorded
    d = tmp_path / "corpus"
    d.mkdir()
    inst = make_instance("telemetry-off", str(d), storage="memory")
    try:
        spy.attach(inst)
        assert isinstance(inst, load_class("telemetry-off"))
        spy.RECORDER.start()
        try:
            value = inst.telemetry_enabled
        finally:
            events = spy.RECORDER.stop()
        assert value is False
        assert [e["member"] for e in events] == ["telemetry_enabled"]
    finally:
        inst.dispose()


def _raw(run_id: str, ts: float, tmp: str, tag: str) -> dict:
    return {
        "cell": {"subclass": "base", "scenario": "x", "storage": "sqlite"},
        "result": {"run": {"run_id": run_id, "tags": {"team": tag}, "start_time": ts},
                   "path": f"{tmp}/storage/{run_id}", "msg": f"Finished in 12.5ms at 0x7f{int(ts) % 999:06x}"},
        "exception": None,
        "state": {"runs": [{"run_id": run_id, "parent_run_id": run_id, "update_timestamp": ts,
                            "when": "2026-11-28T13:40:01.123456+00:00"}]},
        "dispatch": [],
    }


def test_normalization():
    a = normalize_trace(_raw("0b8e5a55-1111-4c4c-9d9d-0123456789ab", 1764337201.5, "/tmp/aaa", "x"), ["/tmp/aaa"])
    b = normalize_trace(_raw("9f9f9f9f-2222-4d4d-8e8e-ba9876543210", 1764337999.25, "/tmp/bbb", "x"), ["/tmp/bbb"])
    assert a == b
    assert a["state"]["runs"][0]["run_id"] == "<uuid-1>" == a["state"]["runs"][0]["parent_run_id"]
    c = normalize_trace(_raw("9f9f9f9f-2222-4d4d-8e8e-ba9876543210", 1764337999.25, "/tmp/bbb", "y"), ["/tmp/bbb"])
    assert c != a
    # two distinct ids stay distinct; a partition key that looks like a date is kept
    d = normalize_trace({"result": ["0b8e5a55-1111-4c4c-9d9d-0123456789ab", "9f9f9f9f-2222-4d4d-8e8e-ba9876543210",
                                    "2024-01-02"]})
    assert d["result"] == ["<uuid-1>", "<uuid-2>", "2024-01-02"]


def _fake_python(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fakepython"
    # it answers the harness's probes of an interpreter (`python -c ...`: nothing missing) at once,
    # so that only what the test gives it to do hangs or crashes
    probe = 'import sys\nif sys.argv[1:2] == ["-c"]:\n    print("[]")\n    sys.exit(0)\n'
    script.write_text(f"#!{sys.executable}\n" + probe + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_hung_or_crashed_worker_is_an_error_not_a_pass(tmp_path):
    hello = 'import json, sys, time\nprint(json.dumps({"hello": True}), flush=True)\nsys.stdin.readline()\n'
    hung = _fake_python(tmp_path, hello + "time.sleep(60)\n")
    cell = {"subclass": "spy", "scenario": "runs_lifecycle", "storage": "memory"}
    with pytest.raises(CompatError, match=r"hung during cell spy/runs_lifecycle/memory") as exc:
        replay.run_cells(hung, [cell], timeout=2)
    assert hung in str(exc.value) and "no reply after 2s" in str(exc.value)
    crashed = _fake_python(tmp_path, hello + "sys.exit(3)\n")
    with pytest.raises(CompatError, match=r"crashed during cell spy/runs_lifecycle/memory \(exit 3\)"):
        replay.run_cells(crashed, [cell], timeout=20)
    with pytest.raises(CompatError, match="no trace files"):
        os.makedirs(tmp_path / "empty" / "traces")
        replay.replay(str(tmp_path / "empty"), PY)


def test_unknown_subclass_is_a_cell_error_on_replay(recorded, tmp_path):
    base = tmp_path / "renamed"
    (base / "traces").mkdir(parents=True)
    src = recorded / "traces" / "base__partitions_dynamic__memory.json"
    data = json.loads(src.read_text())
    data["cell"]["subclass"] = "no-such-subclass"
    write_json(base / "traces" / "no-such-subclass__partitions_dynamic__memory.json", data)
    [finding] = replay.replay(str(base), PY)
    assert finding.rule == "behaviour-cell-error" and "no-such-subclass" in finding.message


# --- real cross-version replay: recorded on dagster 1.11.4, replayed on the installed dagster --

CROSS_SUBS = ["spy", "create-run-tags", "spy:create-run-tags"]
CROSS_SCEN = ["runs_lifecycle", "execute_run_retries", "assets_materializations", "configuration_defaults",
              "monitoring_heartbeats", "schedules_instigator_state"]

# (spy or plain subclass, scenario) -> (rule, dispatch change kind, text the finding mentions).
# Each is a real difference between dagster 1.11.4 and 1.13.29, read from dagster's source:
EXPECTED: dict[tuple[str, str], tuple[str, str | None, str]] = {
    # RunDomain.create_run_for_job calls RunDomain.create_run, not instance.create_run: an
    # override of create_run is silently skipped by create_run_for_job (and execute_in_process)
    ("spy", "runs_lifecycle"): ("behaviour-dispatch-changed", "missing", "create_run"),
    ("spy", "execute_run_retries"): ("behaviour-dispatch-changed", "missing", "create_run"),
    # ... so the corpus subclass's extra run tag is no longer applied
    ("plain", "runs_lifecycle"): ("behaviour-result-changed", None, "corpus/origin"),
    ("plain", "execute_run_retries"): ("behaviour-state-changed", None, "corpus/origin"),
    # AssetMethods.wipe_assets passes the event positionally (was dagster_event=...)
    ("spy", "assets_materializations"): ("behaviour-dispatch-changed", "arguments", "report_dagster_event"),
    # freshness_enabled now defaults to True (settings_methods) -> FRESHNESS_DAEMON is required
    ("spy", "configuration_defaults"): ("behaviour-result-changed", None, "freshness_enabled"),
    ("plain", "configuration_defaults"): ("behaviour-result-changed", None, "freshness_enabled"),
    ("plain", "monitoring_heartbeats"): ("behaviour-result-changed", None, "FRESHNESS_DAEMON"),
    # add_daemon_heartbeat goes through the run_storage property (was self._run_storage)
    ("spy", "monitoring_heartbeats"): ("behaviour-dispatch-changed", "added", "run_storage"),
    # scheduler_debug_info reads scheduler_class and no longer calls _info_str_for_component/_info
    ("spy", "schedules_instigator_state"): ("behaviour-dispatch-changed", "added", "_info_str_for_component"),
    ("plain", "schedules_instigator_state"): ("behaviour-result-changed", None, "scheduler_debug_info"),
}


@pytest.mark.slow
def test_cross_version_replay_reports_real_differences(tmp_path):
    from compat.envs import parse_spec, python_for

    old = python_for(parse_spec("dagster==1.11.4"))
    paths = replay.record(old, str(tmp_path), CROSS_SUBS, CROSS_SCEN, storages=["sqlite"], jobs=2)
    assert len(paths) == len(CROSS_SUBS) * len(CROSS_SCEN)
    traces = [json.loads(p.read_text()) for p in paths]
    assert {t["meta"]["dagster_version"] for t in traces} == {"1.11.4"}
    assert not [t["cell"] for t in traces if t["cell_error"] or t["exception"]]
    assert all(t["dispatch"] for t in traces if t["cell"]["subclass"].startswith("spy"))

    kept = tmp_path / "replayed"
    findings = replay.replay(str(tmp_path), PY, jobs=2, keep_dir=str(kept))
    replayed = [json.loads(p.read_text()) for p in sorted((kept / "traces").glob("*.json"))]
    assert len(replayed) == len(paths) and {t["meta"]["dagster_version"] for t in replayed} != {"1.11.4"}
    assert not [t["cell"] for t in replayed if t["cell_error"] or t["exception"]]

    by: dict[str, object] = {}
    for f in findings:
        by.setdefault(f.member, f)  # a cell's first divergence comes first
    # a cell reports every divergence, not only its first: the spied cells whose dispatches
    # changed also show the result that changed with them, each once
    per_cell = {m: [(g.rule, (g.details or {}).get("change"), (g.details or {}).get("member_name"),
                     (g.details or {}).get("step"), (g.details or {}).get("path")) for g in findings if g.member == m]
                for m in by}
    assert any(len(keys) > 1 for keys in per_cell.values())
    assert all(len(set(keys)) == len(keys) for keys in per_cell.values())
    assert not [f for f in findings if f.rule == "behaviour-cell-error"]
    expected = {}
    for sub in CROSS_SUBS:
        for scen in CROSS_SCEN:
            want = EXPECTED.get(("spy" if sub.startswith("spy") else "plain", scen))
            if want:
                expected[f"{sub}/{scen}/sqlite"] = want
    for member, (rule, change, needle) in expected.items():
        assert member in by, (member, sorted(by))
        f = by[member]
        assert f.rule == rule, (member, f.rule, f.message)
        assert f.details.get("change") == change, (member, f.details.get("change"), f.message)
        assert needle in f.message + (f.old or "") + (f.new or ""), (member, f.message)
    # the old side really dispatched create_run from the base's create_run_for_job
    lost = by["spy/runs_lifecycle/sqlite"]
    assert "> create_run:call(" in lost.old and "DagsterInstance.create_run_for_job [self]" in lost.old
    assert "create_run:call(" not in lost.new and "RunDomain" in lost.new
    # and nothing else: every other cell replays identically
    assert set(by) == set(expected), sorted(set(by) ^ set(expected))
    # offline comparison of the two recordings gives the same findings
    assert [f.to_dict() for f in replay.compare_dirs(str(tmp_path), str(kept))] == [f.to_dict() for f in findings]


def _trace(result: dict, state: dict | None = None) -> dict:
    return {"cell": {"subclass": "spy", "scenario": "x", "storage": "memory"}, "cell_error": None,
            "exception": None, "dispatch": [], "meta": {"steps": list(result)}, "result": result,
            "state": state or {}}


def _exc(kind: str, message: str) -> dict:
    return {"__exception__": {"type": kind, "message": message}}


def test_reworded_exception_is_a_warning_unless_something_real_follows():
    old = _trace({"a": _exc("DagsterInvariantViolationError", "expected A or B"), "b": 1})
    reworded = _trace({"a": _exc("DagsterInvariantViolationError", "expected A, B or C"), "b": 1})
    f = replay.compare(old, reworded)
    assert f.rule == replay.RULE_EXCEPTION.id and f.severity == "warning"
    # a later changed value is still the cell's (breaking) finding
    f = replay.compare(old, _trace({"a": reworded["result"]["a"], "b": 2}))
    assert f.rule == replay.RULE_RESULT.id and f.severity == "breaking"
    # so is a changed final state
    f = replay.compare(_trace(old["result"], {"runs": 1}), _trace(reworded["result"], {"runs": 2}))
    assert f.rule == replay.RULE_STATE.id and f.severity == "breaking"
    # another exception type, or an exception that is gone, stays breaking
    f = replay.compare(old, _trace({"a": _exc("KeyError", "expected A or B"), "b": 1}))
    assert f.severity == "breaking" and "instead of" in f.message
    f = replay.compare(old, _trace({"a": [], "b": 1}))
    assert f.severity == "breaking" and "no longer raises" in f.message


def test_a_cell_gives_the_same_trace_under_a_temp_dir_of_another_length(tmp_path):
    """Long strings are cut after their temp paths become `<tmp>` and their ids `<uuid-N>`: the
    worker's temp dir (its home, on /dev/shm here, under /tmp or /var/folders elsewhere) moves
    no cut, and no cut leaves part of a run id in the trace (it did, and recordings differed)."""
    longer = tmp_path / ("a-much-longer-temporary-directory-" * 2)
    longer.mkdir()
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nTMPDIR="{longer}"\nexport TMPDIR\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    cells = [{"subclass": "spy", "scenario": "runs_submit_and_launch", "storage": "memory"},
             {"subclass": "spy", "scenario": "runs_records_and_stats", "storage": "sqlite"}]
    traces = []
    for python in (sys.executable, str(wrapper)):
        worker = replay.Worker(python)
        try:
            traces.append([json.dumps(worker.run(cell), sort_keys=True) for cell in cells])
        finally:
            worker.close()
    assert traces[0] == traces[1]
    assert "LOG: Writing file at: <tmp>/storage/<uuid-2>/launched_op/result" in traces[0][0]


def test_a_long_text_is_cut_after_its_temp_paths_and_ids_are_replaced():
    from compat.model.trace import Normalizer, _first_lines

    run_id = "03ff7114-d646-4f3b-8b42-299a8aa2c1de"
    cut = [Normalizer({tmp: "<tmp>"}).value(_first_lines(f"wrote {tmp}/storage/{run_id}/result {'x' * 200}", 60))
           for tmp in ("/t", "/a/much/longer/temporary/directory" * 3)]
    assert cut[0] == cut[1] == ("wrote <tmp>/storage/<uuid-1>/result " + "x" * 200)[:60] + "...<truncated>"
    assert _first_lines(f"wrote /t/{run_id} {'x' * 200}", 60) == f"wrote /t/{run_id} {'x' * 200}"[:60] + "...<truncated>"


def test_a_replay_under_another_temp_dir_matches_the_shipped_recording(tmp_path):
    """Long strings are cut before their temp paths become `<tmp>`, so a longer TMPDIR (another
    machine, a CI runner) cuts them elsewhere: the replay still matches the recording made
    under /tmp, on cells whose run logs name files in the temp dir."""
    shipped = Path(__file__).resolve().parent.parent / "snapshots" / "baseline" / "traces"
    base = tmp_path / "baseline" / "traces"
    base.mkdir(parents=True)
    for name in ("spy__runs_submit_and_launch__memory.json", "spy__runs_records_and_stats__sqlite.json"):
        shutil.copy(shipped / name, base / name)
    longer = tmp_path / ("a-much-longer-temporary-directory-" * 2)
    longer.mkdir()
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nTMPDIR="{longer}"\nexport TMPDIR\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    findings = replay.replay(str(tmp_path / "baseline"), str(wrapper))
    assert findings == [], [(f.message, f.old, f.new) for f in findings]
    assert replay.same("LOG: at <tmp>/storage/up...<truncated>", "LOG: at <tmp>/storage/upstream/x...<truncated>")
    assert not replay.same("LOG: wrote <tmp>/storage/up...<truncated>", "LOG: read <tmp>/storage/down...<truncated>")


def test_a_step_whose_label_is_not_a_member_records_the_member_it_calls(monkeypatch, tmp_path):
    """`required` calls `get_required_daemon_types`: the trace says so (`meta.calls`), and a
    finding of that step names the member, so a cause's title is in a reviewer's words."""
    from compat.behaviour.worker import run_cell
    from compat.causes import build_causes

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    trace = run_cell("spy", "monitoring_heartbeats", "memory")
    calls = trace["meta"]["calls"]
    assert calls["required"] == "get_required_daemon_types"
    assert calls["heartbeats"] == "get_daemon_heartbeats"  # a lambda: the member it names
    assert calls["add_sensor"] == "add_daemon_heartbeat"
    changed = json.loads(json.dumps(trace))
    changed["result"]["required"] = changed["result"]["required"] + ["FRESHNESS_DAEMON"]
    [cause] = build_causes(replay.divergences(trace, changed))
    assert cause.title == "`get_required_daemon_types` (step `required`) returns a different value"

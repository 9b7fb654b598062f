"""The final-state dump of a trace sees what the instance's own reads hide: events left behind by
a run that no longer exists, ticks of a deleted instigator, every dynamic partition, the
key-value store. Real dagster storages in temp dirs, in memory and on sqlite."""

from __future__ import annotations

import pytest

from compat.behaviour.scenarios import FIXED_TS, _ops_job, _origin
from compat.worker.instance import build_instance
from compat.model.trace import capture_state, normalize_trace


@pytest.fixture(params=["memory", "sqlite"])
def instance(request, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "instance").mkdir()
    inst = build_instance("base", str(tmp_path / "instance"), request.param)
    yield inst
    inst.dispose()


def _state(instance):
    return normalize_trace({"state": capture_state(instance)})["state"]


def test_events_of_a_deleted_run_stay_visible(instance):
    job = _ops_job()
    kept = instance.create_run_for_job(job)
    gone = instance.create_run_for_job(job)
    instance.report_engine_event("kept", kept)
    instance.report_engine_event("left behind", gone)
    instance.run_storage.delete_run(gone.run_id)  # the run goes, its events stay (what a dropped delete_events does)
    log = _state(instance)["event_log"]
    assert [kind for _, kind, _ in log] == ["run", "orphan"]
    assert log[1][2] == ["ENGINE_EVENT"]
    instance.delete_run(kept.run_id)
    instance.event_log_storage.delete_events(gone.run_id)
    assert _state(instance)["event_log"] == []


def test_runless_events_and_dynamic_partitions_nobody_declared(instance):
    import dagster as dg

    instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey("a"), partition="p1"))
    instance.add_dynamic_partitions("undeclared", ["x", "y"])
    state = _state(instance)
    assert state["event_log"] == [["", "runless", ["ASSET_MATERIALIZATION [a:p1]"]]]
    assert state["dynamic_partitions"] == {"undeclared": ["x", "y"]}


def test_ticks_of_a_deleted_instigator_and_the_kvs(tmp_path, monkeypatch):
    from dagster._core.scheduler.instigation import InstigatorType, TickData, TickStatus

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "instance").mkdir()
    inst = build_instance("base", str(tmp_path / "instance"), "sqlite")
    try:
        origin = _origin("gone_schedule")
        inst.create_tick(TickData(instigator_origin_id=origin.get_id(), instigator_name="gone_schedule",
                                  instigator_type=InstigatorType.SCHEDULE, status=TickStatus.SKIPPED,
                                  timestamp=FIXED_TS, selector_id="sel"))
        inst.run_storage.set_cursor_values({"compat_cursor": "7"})
        state = _state(inst)
        assert state["instigators"] is None  # no state stored for it...
        assert [t["name"] for t in state["ticks"]] == ["gone_schedule"]  # ...its tick is still there
        assert state["kvs"] == {"compat_cursor": "7"}
    finally:
        inst.dispose()


def test_empty_sections_are_null_so_storages_one_version_lacks_compare_equal(instance):
    state = _state(instance)
    for section in ("ticks", "concurrency", "kvs", "defs_state", "compute_logs", "asset_checks"):
        assert state[section] is None, section
    assert not any(isinstance(v, dict) and "__exception__" in v for v in state.values()), state


def test_the_in_memory_event_log_read_in_one_query_is_the_log_read_run_by_run(instance, monkeypatch):
    from compat.model import trace

    job = _ops_job()
    first, second, gone = (instance.create_run_for_job(job) for _ in range(3))
    for i in range(3):
        for run in (second, first, gone):  # interleaved: storage order is not run order
            instance.report_engine_event(f"event {i}", run)
    import dagster as dg

    instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey("runless")))
    instance.run_storage.delete_run(gone.run_id)
    one_query = _state(instance)["event_log"]
    assert trace._one_table(instance.event_log_storage) == (type(instance.event_log_storage).__name__
                                                            == "InMemoryEventLogStorage")
    monkeypatch.setattr(trace, "_one_table", lambda storage: False)
    run_by_run = _state(instance)["event_log"]
    assert one_query == run_by_run
    assert [kind for _, kind, _ in one_query] == ["run", "run", "orphan", "runless"]
    assert [len(events) for _, _, events in one_query] == [3, 3, 3, 1]


def test_a_repeated_text_keeps_the_placeholders_of_its_first_appearance():
    from compat.model.trace import Normalizer, compress_dispatch

    a, b = "0f6a0b0e-5f2c-4b39-9a3e-0d5c3c2f1a11", "9d1c1a7e-3b52-4c0e-8d0a-6f1e2b3c4d55"
    norm = Normalizer()
    assert norm.value([f"run {a}", f"run {b}", f"run {a}", "plain", "plain"]) == [
        "run <uuid-1>", "run <uuid-2>", "run <uuid-1>", "plain", "plain"]
    ev = {"member": "create_run", "kind": "call", "args": [], "kwargs": {}}
    assert compress_dispatch([ev, dict(ev), {**ev, "kind": "get"}, ev, {**ev, "n": 1}]) == [
        {**ev, "n": 2}, {**ev, "kind": "get", "n": 1}, {**ev, "n": 1}, {**ev, "n": 1}]

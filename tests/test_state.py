"""The final-state dump of a trace sees what the instance's own reads hide: events left behind by
a run that no longer exists, ticks of a deleted instigator, every dynamic partition, the
key-value store. Real dagster storages in temp dirs, in memory and on sqlite."""

from __future__ import annotations

import pytest

from compat.behaviour.scenarios import FIXED_TS, _ops_job, _origin
from compat.behaviour.worker import build_instance
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

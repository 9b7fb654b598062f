"""Traces keep what a caller can observe: container types, mapping order, identity, exception
classes and every warning a step emits; a trace recorded in the older encoding is compared at
its own fidelity, so an old baseline never shows a difference that is only the encoding's.

Real dagster instances throughout (an ephemeral one and the harness's own worker cells).
"""

from __future__ import annotations

import json
import warnings
from collections import OrderedDict
from types import MappingProxyType

import pytest

from compat.behaviour import replay
from compat.behaviour.scenarios import Ctx
from compat.behaviour.worker import run_cell
from compat.model import schemas
from compat.model.jsonio import write_json
from compat.model.trace import TRACE_VERSION, downgrade, make_trace, to_jsonable, trace_at


def exact(value):
    return to_jsonable(value, exact=True)


# --------------------------------------------------------------------------- encoding


def test_containers_of_other_types_encode_differently():
    encoded = [json.dumps(exact(v), sort_keys=True)
               for v in ([1, 2], (1, 2), {1, 2}, frozenset({1, 2}))]
    assert len(set(encoded)) == 4, encoded
    # version 1 could not tell them apart: the reason for version 2
    assert len({json.dumps(to_jsonable(v)) for v in ([1, 2], (1, 2), {1, 2}, frozenset({1, 2}))}) == 1


def test_sets_have_no_order_so_they_stay_sorted():
    assert exact({3, 1, 2}) == exact({2, 3, 1}) == {"__set__": [1, 2, 3]}


def test_mapping_order_is_kept_and_only_marked_when_not_sorted():
    assert exact({"a": 1, "b": 2}) == {"a": 1, "b": 2}
    reordered = exact({"b": 2, "a": 1})
    assert reordered == {"a": 1, "b": 2, "__order__": [1, 0]}
    assert exact({"c": 0, "a": 1, "b": 2})["__order__"] == [2, 0, 1]


def test_a_mapping_that_is_not_a_dict_names_its_type():
    assert exact(MappingProxyType({"a": 1}))["__mapping__"] == "mappingproxy"
    assert exact(OrderedDict(a=1))["__mapping__"] == "OrderedDict"
    assert "__mapping__" not in exact({"a": 1})


def test_exceptions_keep_their_class_tree():
    from dagster._core.errors import DagsterRunNotFoundError

    data = exact(DagsterRunNotFoundError("gone", invalid_run_id="x"))["__exception__"]
    assert data["type"] == "DagsterRunNotFoundError"
    assert "DagsterError" in data["bases"] and "Exception" in data["bases"]


@pytest.mark.parametrize("value", [
    [1, (2, 3), {4, 5}], {"b": (1,), "a": frozenset({"x", "y"})}, ({"k": {2, 1}},),
    {"z": [OrderedDict(b=1, a=2)]}, {frozenset({1}), frozenset({0, 2})}, ValueError("boom"),
])
def test_downgrade_gives_exactly_what_version_1_recorded(value):
    assert downgrade(exact(value)) == to_jsonable(value)


def test_equivalent_code_gives_the_same_trace():
    """A comprehension for a loop, a helper, a renamed local: the value a caller gets is the same."""
    def loop(items):
        out = {}
        for item in items:
            out[item.upper()] = (item, len(item))
        return out

    def comprehension(words):
        def pair(w):
            return (w, len(w))
        return {w.upper(): pair(w) for w in words}

    words = ["run", "asset", "backfill"]
    assert exact(loop(words)) == exact(comprehension(words))


# --------------------------------------------------------------------------- steps on a real instance


@pytest.fixture
def instance(tmp_path):
    from dagster import DagsterInstance

    with DagsterInstance.ephemeral(tempdir=str(tmp_path)) as inst:
        yield inst


def test_a_step_records_every_warning_it_emits_even_repeated_ones(instance, tmp_path):
    ctx = Ctx(tmpdir=str(tmp_path), storage="memory", owner=instance)

    def noisy():
        for _ in range(2):  # the same warning from the same line: "always" records both
            warnings.warn("old way", DeprecationWarning, stacklevel=1)
        warnings.warn("heads up", UserWarning, stacklevel=1)
        return 1

    ctx.step("noisy", noisy)
    ctx.step("quiet", instance.get_runs_count)
    assert ctx.warnings == {"noisy": [["DeprecationWarning", "old way"], ["DeprecationWarning", "old way"],
                                      ["UserWarning", "heads up"]]}
    assert ctx.results == {"noisy": 1, "quiet": 0}


def test_a_step_notes_the_same_object_twice_and_the_instances_own_objects(instance, tmp_path):
    ctx = Ctx(tmpdir=str(tmp_path), storage="memory", owner=instance)
    held = instance.__dict__.setdefault("_compat_probe", {"k": "v"})
    ctx.step("fresh", lambda: {"k": "v"})
    ctx.step("internal", lambda: held)
    ctx.step("again", lambda: held)
    ctx.step("copy", lambda: dict(held))
    assert ctx.identity == {"internal": {"internal": True}, "again": {"same_as": "internal"}}
    assert ctx.results["fresh"] == ctx.results["internal"] == ctx.results["copy"]


def _trace(ctx: Ctx, version: int = TRACE_VERSION) -> dict:
    trace = make_trace({"subclass": "spy", "scenario": "probe", "storage": "memory"}, result=ctx.results,
                       exception=None, state={}, dispatch=[], meta={"steps": list(ctx.results)},
                       tmpdirs=[ctx.tmpdir], warnings=ctx.warnings, identity=ctx.identity,
                       attributes=ctx.attributes)
    return trace_at(trace, version)


def _probe(instance, tmp_path, *, as_tuple=False, warn=False, copy=True) -> dict:
    ctx = Ctx(tmpdir=str(tmp_path), storage="memory", owner=instance)
    held = instance.__dict__.setdefault("_compat_held", ["a"])

    def tags():
        if warn:
            warnings.warn("tags are deprecated", DeprecationWarning, stacklevel=1)
        keys = sorted(instance.get_run_tag_keys()) + ["team"]
        return tuple(keys) if as_tuple else keys

    ctx.step("tags", tags)
    ctx.step("held", lambda: list(held) if copy else held)
    return _trace(ctx)


def test_compare_reports_a_tuple_for_a_list_a_new_warning_and_a_lost_copy(instance, tmp_path):
    base = _probe(instance, tmp_path)
    assert replay.compare(base, _probe(instance, tmp_path)) is None
    f = replay.compare(base, _probe(instance, tmp_path, as_tuple=True))
    assert f.rule == "behaviour-result-changed" and f.details["step"] == "tags"
    f = replay.compare(base, _probe(instance, tmp_path, warn=True))
    assert f.rule == "behaviour-warnings-changed" and f.severity == "breaking"
    assert "DeprecationWarning" in f.message and f.details["step"] == "tags"
    f = replay.compare(base, _probe(instance, tmp_path, copy=False))
    assert f.rule == "behaviour-result-changed" and f.details["path"] == "held.<identity>"
    # a warning that goes away is worth a note, not a failure
    f = replay.compare(_probe(instance, tmp_path, warn=True), base)
    assert f.rule == "behaviour-warnings-changed" and f.severity == "warning"


def test_an_old_trace_is_compared_at_its_own_fidelity(instance, tmp_path):
    old = _probe(instance, tmp_path, as_tuple=False, warn=False, copy=True)
    old_v1 = trace_at(old, 1)
    assert old_v1["schema_version"] == 1 and "warnings" not in old_v1
    # what version 1 cannot see is not invented as a difference...
    assert replay.compare(old_v1, _probe(instance, tmp_path, as_tuple=True, warn=True, copy=False)) is None
    # ...and what it can see still is
    changed = _probe(instance, tmp_path)
    changed["result"]["tags"] = {"__tuple__": ["other"]}  # another content, in a tuple
    assert replay.compare(old_v1, changed).rule == "behaviour-result-changed"


# --------------------------------------------------------------------------- recorded cells


def test_a_cell_recorded_now_matches_the_shipped_version_1_recording(tmp_path):
    """The shipped baseline was recorded in the old encoding: a cell run now, in the new one,
    matches it, and the file it writes is read back under the new version."""
    cell = {"subclass": "spy", "scenario": "events_logging", "storage": "memory"}
    shipped = schemas.read_trace(f"snapshots/baseline/traces/{replay.trace_filename(cell)}")
    now = run_cell(**cell)
    assert now["schema_version"] == TRACE_VERSION
    if shipped["schema_version"] == 1:
        assert replay.compare(shipped, now) is None
    # the step reading logs with an integer cursor warns, on every run: recorded, deterministically
    assert now["warnings"]["logs_after_1"][0][0] == "DeprecationWarning"
    # a trace is read back as the cell its file name says
    path = write_json(tmp_path / replay.trace_filename(cell), now, replay.TRACE_INLINE_DEPTH)
    again = schemas.read_trace(path)
    assert replay.compare(again, run_cell(**cell)) is None


def test_a_trace_with_malformed_warnings_is_refused_in_one_line(tmp_path):
    cell = {"subclass": "spy", "scenario": "probe", "storage": "memory"}
    trace = make_trace(cell, result={}, exception=None, state={}, dispatch=[], meta={}, tmpdirs=[],
                       warnings={"step": [["DeprecationWarning"]]})
    path = write_json(tmp_path / "t.json", trace, replay.TRACE_INLINE_DEPTH)
    from compat.model.errors import CompatError

    with pytest.raises(CompatError, match="warnings"):
        schemas.read_trace(path)


def test_the_scenario_of_non_default_arguments_sees_each_argument():
    """A dropped limit, `of_type`, `ascending` or cursor changes these steps' values; and the cell
    records the same trace twice."""
    cell = {"subclass": "spy", "scenario": "arguments_non_default", "storage": "sqlite"}
    first, second = run_cell(**cell), run_cell(**cell)
    assert first == second and first["cell_error"] is None
    res = first["result"]
    assert not [k for k, v in res.items() if isinstance(v, dict) and "__exception__" in v]
    assert res["logs_limit"] == res["logs_of_type"][:1] and len(res["logs_of_type"]) == 2
    assert res["records_of_type"] == res["logs_of_type"][::-1]
    assert res["runs_limit_ascending"] == ["run0", "run1"] and res["runs_cursor"] == ["run1", "run0"]
    assert res["has_missing_snapshot"] is False
    assert res["dynamic_existing_some"] == {"__set__": ["a", "c"]}
    assert [k for k, _ in (t["__tuple__"] for t in res["daemon_statuses"])] == ["ASSET", "BACKFILL", "SCHEDULER", "SENSOR"]


def test_the_lifecycle_scenario_records_enter_exit_and_double_dispose():
    cell = {"subclass": "spy", "scenario": "storage_lifecycle", "storage": "sqlite"}
    trace = run_cell(**cell)
    res = trace["result"]
    assert res["enter_returns_self"] is True and res["with_block"] == {"__tuple__": [True, 1]}
    # an exception inside a `with` block propagates, with its class tree
    assert res["with_raising"]["__exception__"]["type"] == "KeyError"
    assert res["dispose_once"] is None and res["dispose_twice"] is None
    dispose = [d for d in trace["dispatch"] if d["member"] == "dispose"]
    calls = [(d["caller"], d["n"]) for d in dispose]
    assert calls == [("__exit__", 1), ("__exit__", 1), ("__exit__", 1), ("step", 2)], calls


# --------------------------------------------------------------------------- forwarded to custom storages


def test_custom_storages_see_every_argument_the_instance_forwards_and_a_dropped_one_is_reported():
    cell = {"subclass": "spy:forwarding-storages", "scenario": "arguments_non_default", "storage": "memory"}
    trace = run_cell(**cell)
    assert trace["cell_error"] is None
    calls = trace["forwarded"]
    buckets = [c for c in calls if c[1] == "get_runs" and isinstance(c[2][3], dict)]
    assert {b[2][3]["__type__"] for b in buckets} == {"JobBucket", "TagBucket"}
    logs = [c for c in calls if c[1] == "get_logs_for_run"]
    assert {"of_type": "ENGINE_EVENT", "limit": None, "cursor": -1} in [c[3] for c in logs]
    assert any(c[:2] == ["run_storage", "has_snapshot"] for c in calls)
    # the same cell again: the same calls; the bucket dropped (as sqlite would never notice): reported
    assert replay.compare(trace, run_cell(**cell)) is None
    dropped = json.loads(json.dumps(trace))
    i = calls.index(buckets[0])
    dropped["forwarded"][i][2][3] = None
    f = replay.compare(trace, dropped)
    assert f.rule == "behaviour-forwarding-changed" and f.details["change"] == "arguments"
    assert f.details["member_name"] == "run_storage.get_runs" and "Bucket" in f.old
    assert [g.rule for g in replay.divergences(trace, dropped)] == ["behaviour-forwarding-changed"]
    # a call no longer made
    gone = json.loads(json.dumps(trace))
    del gone["forwarded"][i]
    assert replay.compare(trace, gone).details["change"] == "missing"
    # a version-1 baseline knows nothing of forwarded calls: nothing is invented
    assert replay.compare(trace_at(trace, 1), gone) is None


# --------------------------------------------------------------------------- attributes after every step


def _attribute_probe(instance, tmp_path, *, lazily: bool) -> dict:
    """A real instance whose `_compat_cache` is set before the steps (as in `__init__`), or only
    by the step that first needs it (lazily)."""
    if not lazily:
        instance._compat_cache = {}
    ctx = Ctx(tmpdir=str(tmp_path), storage="memory", owner=instance)
    ctx.note_attributes_at_start()

    def count():
        instance.__dict__.setdefault("_compat_cache", {})
        return instance.get_runs_count()

    ctx.step("count", count)
    return _trace(ctx)


def test_an_attribute_now_set_lazily_is_reported_and_a_new_lazy_one_is_not(tmp_path):
    from dagster import DagsterInstance

    def probe(lazily):
        with DagsterInstance.ephemeral(tempdir=str(tmp_path)) as inst:
            return _attribute_probe(inst, tmp_path, lazily=lazily)

    eager, lazy = probe(False), probe(True)
    assert lazy["attributes"]["count"] == {"added": ["_compat_cache"]} and "count" not in eager["attributes"]
    f = replay.compare(eager, lazy)
    assert f.rule == "behaviour-attributes-changed" and f.details["attribute"] == "_compat_cache"
    assert "added by step 'count'" in f.message
    # the other way round the old base never had it before the step: a new attribute, nothing to report
    assert replay.compare({**lazy, "attributes": {"(start)": {"present": []}}}, lazy) is None
    assert replay.compare(trace_at(eager, 1), lazy) is None


def test_the_rarely_called_members_run_and_what_they_return_is_recorded():
    trace = run_cell(subclass="spy", scenario="assets_rarely_called", storage="sqlite")
    res = trace["result"]
    assert trace["cell_error"] is None and trace["exception"] is None
    assert "rare_asset" in json.dumps(res["asset_keys_for_run"])
    assert res["asset_partitions_for_run"] == {"__mapping__": "defaultdict", "rare_asset": {"__set__": [None]}}
    assert res["register_managed_run"] == {"managed": "yes"}
    assert res["asset_event_summaries"] == [{"__tuple__": [True, "AssetEventSummaryRecord"]}]
    assert "__exception__" in res["stop_unknown_sensor"]  # nothing to stop: refused, and how is recorded

"""Self-check of the gate: it must fail on each known breaking edit of the installed dagster
and pass on each equivalent one (compat/tools/mutate.py), against the shipped default baseline.

The behaviour half replays the plain spy's cells of that baseline (every scenario on every
storage, ~60 cells) rather than all of them, to keep the suite quick; a mutation listed in
SCENARIOS replays only the plain spy's cells of those scenarios (the ones that exercise the
edited member), since forty mutations each replaying every cell would take a quarter of an
hour. `compat mutate` runs every mutation against the whole gate cell set.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compat.model import jsonio
from compat.tools import mutate

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "snapshots" / "baseline"
# the mutations whose breakage no signature shows: only the behaviour replay can kill them
SCENARIOS = {
    "kept-events-of-deleted-run": ["runs_lifecycle"],
    "wipe-keeps-events": ["storage_wipe"],
    "wipe-partitions-keeps-events": ["partitions_materialized"],
    "dropped-run-tags": ["runs_lifecycle"],
    "dropped-backfill": ["backfills_crud"],
    "kept-instigator-state": ["sensors_instigator_state"],
    "dropped-tick-update": ["sensors_instigator_state"],
    "wipe-schedules-keeps-storage": ["sensors_instigator_state"],
    "kept-heartbeats": ["monitoring_heartbeats"],
    "dropped-heartbeat": ["monitoring_heartbeats"],
    "reversed-dynamic-partitions": ["partitions_dynamic"],
    "reversed-backfills": ["backfills_crud"],
    "reversed-ticks": ["sensors_instigator_state"],
    "swallowed-run-not-found": ["runs_lifecycle", "errors_runs"],
    "swallowed-backfill-check": ["errors_schedules_backfills"],
    "swallowed-tick-check": ["errors_schedules_backfills"],
    "default-python-log-level": ["configuration_defaults"],
    "default-start-timeout": ["configuration_defaults"],
    "default-max-retries": ["configuration_defaults"],
    "settings-read-directly": ["configuration_defaults", "configuration_custom"],
    "heartbeat-storage-read-directly": ["monitoring_heartbeats"],
    "heartbeats-read-directly": ["monitoring_heartbeats"],
    "docstring-backfills": ["backfills_crud"],
    "local-rename-log-level": ["configuration_defaults", "configuration_custom"],
    "local-rename-loggers": ["configuration_defaults", "configuration_custom"],
    "annotation-spelling-ticks": ["sensors_instigator_state", "schedules_instigator_state"],
    "moved-into-mixin-snapshot": ["snapshots_job_and_plan"],
    "docstring-add-backfill": ["backfills_crud"],
}
# what no signature shows: only the behaviour replay can kill these
# edits that also drop or replace a `self.<member>` reference: the static half kills them too
STATIC_TOO = {"kept-heartbeats", "dropped-heartbeat", "heartbeat-storage-read-directly", "heartbeats-read-directly",
              "settings-read-directly"}
BEHAVIOUR_ONLY = {"changed-return", "dropped-side-effect"} | {
    m for m in SCENARIOS if next(x for x in mutate.MUTATIONS if x.id == m).breaking} - STATIC_TOO
# a changed default is breaking for callers that omit the argument, which the surface sees alone
STATIC_ONLY = {"changed-default": "parameter-default-changed"}
# the mutations each half must kill on its own: a hook the base stops dispatching to shows in the
# surface and in the plain spy's dispatches, without a corpus subclass that overrides it (a renamed
# member is the static half's alone: dispatches are compared over members both sides define)
BOTH_HALVES = {"internal-manager"} | STATIC_TOO


@pytest.fixture(scope="module")
def spy_baseline(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mutation") / "baseline"
    shutil.copytree(SHIPPED, out, ignore=lambda d, names: [n for n in names if d.endswith("traces") and not n.startswith("spy__")])
    manifest = jsonio.read_json(out / "manifest.json", schema="compat.baseline", versions=(1,))
    manifest["cells"] = len(list((out / "traces").glob("*.json")))
    manifest["selection"] = {"subclasses": ["spy"]}  # the plain spy's cells of the gate set
    jsonio.write_json(out / "manifest.json", manifest)
    assert manifest["cells"] > 40
    return out


def _narrowed(baseline: Path, scenarios: list[str], dest: Path) -> Path:
    """A copy of the spy baseline holding the cells of these scenarios only (and no fuzz programs)."""
    shutil.copytree(baseline, dest, ignore=lambda d, names: [
        n for n in names if d.endswith("traces") and n.split("__")[1] not in scenarios or d.endswith("fuzz")])
    manifest = jsonio.read_json(dest / "manifest.json", schema="compat.baseline", versions=(1,))
    manifest["cells"] = len(list((dest / "traces").glob("*.json")))
    manifest["fuzz_programs"] = 0
    manifest["selection"] = {**manifest["selection"], "scenarios": list(scenarios)}
    jsonio.write_json(dest / "manifest.json", manifest)
    assert manifest["cells"] >= len(scenarios)
    return dest


@pytest.mark.slow
@pytest.mark.parametrize("mutation", mutate.MUTATIONS, ids=lambda m: m.id)
def test_gate_kills_breaking_and_passes_equivalent_mutations(mutation, spy_baseline, tmp_path):
    baseline = spy_baseline
    if mutation.id in SCENARIOS:
        baseline = _narrowed(spy_baseline, SCENARIOS[mutation.id], tmp_path / "baseline")
    outcome = mutate.evaluate(mutation, baseline, behaviour="always" if mutation.id in BOTH_HALVES else "auto")
    report = mutate.kill_report([outcome])
    assert outcome.correct, report
    if mutation.id in BEHAVIOUR_ONLY:
        assert outcome.behaviour_run and not [f for f in outcome.static if f.severity == "breaking"], report
        assert any(f.source == "behaviour" for f in outcome.failing), report
    if mutation.id in STATIC_ONLY:
        assert any(f.rule == STATIC_ONLY[mutation.id] and f.severity == "breaking" for f in outcome.static), report
    if mutation.id in BOTH_HALVES:
        assert {f.source for f in outcome.failing} >= {"surface", "behaviour"}, report
    if not mutation.breaking:
        assert outcome.behaviour_run, "an equivalent mutation must pass the behaviour replay too"


def test_mutation_edits_apply_to_the_pinned_dagster(tmp_path):
    """Every edit's text is found exactly once, so a dagster upgrade cannot silently turn a
    mutation into a no-op (apply raises otherwise)."""
    for m in mutate.MUTATIONS:
        dest = mutate.apply(m, tmp_path / m.id)
        for edit in m.edits:
            assert edit.new in (dest / edit.path).read_text()
    assert {m.breaking for m in mutate.MUTATIONS} == {True, False}
    assert sum(m.breaking for m in mutate.MUTATIONS) >= 30 and sum(not m.breaking for m in mutate.MUTATIONS) >= 10
    assert set(SCENARIOS) <= {m.id for m in mutate.MUTATIONS}

"""Self-check of the gate: it must fail on each known breaking edit of the installed dagster
and pass on each equivalent one (compat/tools/mutate.py), against the shipped default baseline.

The behaviour half replays the plain spy's cells of that baseline (every scenario on every
storage, ~50 cells) rather than all of them, to keep the suite quick; `compat mutate` runs
the same mutations against the whole gate cell set.
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
BEHAVIOUR_ONLY = {"changed-return", "dropped-side-effect"}
# a changed default is breaking for callers that omit the argument, which the surface sees alone
STATIC_ONLY = {"changed-default": "parameter-default-changed"}
# the mutations each half must kill on its own: a hook the base stops dispatching to shows in the
# surface and in the plain spy's dispatches, without a corpus subclass that overrides it (a renamed
# member is the static half's alone: dispatches are compared over members both sides define)
BOTH_HALVES = {"internal-manager"}


@pytest.fixture(scope="module")
def spy_baseline(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mutation") / "baseline"
    shutil.copytree(SHIPPED, out, ignore=lambda d, names: [n for n in names if d.endswith("traces") and not n.startswith("spy__")])
    manifest = jsonio.read_json(out / "manifest.json", schema="compat.baseline", versions=(1,))
    manifest["cells"] = len(list((out / "traces").glob("*.json")))
    jsonio.write_json(out / "manifest.json", manifest)
    assert manifest["cells"] > 40
    return out


@pytest.mark.parametrize("mutation", mutate.MUTATIONS, ids=lambda m: m.id)
def test_gate_kills_breaking_and_passes_equivalent_mutations(mutation, spy_baseline):
    outcome = mutate.evaluate(mutation, spy_baseline, behaviour="always" if mutation.id in BOTH_HALVES else "auto")
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

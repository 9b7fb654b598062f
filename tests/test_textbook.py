"""The textbook corpus (tests/textbook): every verdict holds at run time, and compat tells the
breaks from the compatible changes better than griffe does on the same pairs.

Each case's probe (an old caller's call shapes and a subclass written against the old class)
runs on both trees in a fresh interpreter: it must pass on the old tree, fail on the new one
exactly when the verdict is ``runtime``. The score is computed by ``compat.tools.textbook``
(``python -m compat.tools.textbook`` prints it with the cases each checker gets wrong).
"""

from __future__ import annotations

import functools

import pytest

from compat.tools import textbook

CASES = textbook.load_cases()
BY_NAME = {c.name: c for c in CASES}


def test_the_corpus_is_large_and_covers_every_verdict():
    assert len(CASES) >= 60
    counts = {v: sum(c.verdict == v for c in CASES) for v in textbook.VERDICTS}
    assert all(n >= 10 for n in counts.values()), counts
    assert all(c.why for c in CASES)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_probe_confirms_the_verdict(name):
    case = BY_NAME[name]
    passed_old, err_old = textbook.probe_passes(case, case.old)
    assert passed_old, f"the probe must pass on the old tree: {err_old}"
    passed_new, err_new = textbook.probe_passes(case, case.new)
    if case.verdict == "runtime":
        assert not passed_new, "a runtime break must make the probe fail on the new tree"
    else:
        assert passed_new, f"a {case.verdict} case must still run on the new tree: {err_new}"


@functools.lru_cache(maxsize=None)
def scores() -> dict[tuple[str, str], textbook.Score]:
    return {(s.checker, s.fail_on): s for s in textbook.score(CASES)}


def test_compat_catches_every_break_at_the_default_gate():
    s = scores()[("compat", "breaking")]
    assert s.breaks == sum(c.breaks for c in CASES)
    assert s.missed == []


def test_compat_false_alarms_are_the_known_few():
    # dagster's factory passes every __init__ keyword, so a new optional __init__ parameter
    # breaks an __init__ override without **kwargs on DagsterInstance, though not on a plain class
    known = ["optional-keyword-only-added-init"]
    for fail_on in ("breaking", "warning"):
        assert scores()[("compat", fail_on)].alarms == known, fail_on


def test_compat_beats_griffe_on_both_counts():
    ours, theirs = scores()[("compat", "breaking")], scores()[("griffe", "breaking")]
    assert theirs.breaks == ours.breaks and theirs.compatible == ours.compatible
    assert ours.caught > theirs.caught and ours.false_alarms < theirs.false_alarms
    # griffe's blind spots are what subclasses feel: hooks, attributes, MRO, types
    assert {"hook-bypassed", "instance-attribute-removed", "own-override-dropped", "return-widened"} <= set(theirs.missed)


def test_typing_breaks_say_so_and_runtime_breaks_do_not():
    found = textbook.compat_findings(BY_NAME["return-widened"])
    assert [(f.rule, f.audience, f.details.get("breakage")) for f in found] == [
        ("return-annotation-changed", "callers", "typing")]
    narrowed = textbook.compat_findings(BY_NAME["return-narrowed"])
    assert [(f.rule, f.audience) for f in narrowed if f.rule == "return-annotation-changed"] == [
        ("return-annotation-changed", "subclasses")]
    runtime = textbook.compat_findings(BY_NAME["param-removed-positional"])
    assert runtime and all("breakage" not in f.details for f in runtime)

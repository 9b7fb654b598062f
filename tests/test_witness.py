"""Witnesses: programs written against the old class, run on both sides in real subprocesses of
each side's interpreter (real dagster 1.11.4 and 1.11.6, environments built by uv and cached).
A cause is breaking when its witness passes on the old side and fails on the new one; a cause
that could break and is not proven is at most a warning, marked unproven."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compat.causes import build_causes
from compat.result import CheckResult
from compat.static.extract import DEFAULT_TARGET
from compat import witness, witness_programs
from pairs import released_pair

OLD, NEW = "dagster==1.11.4", "dagster==1.11.6"


@pytest.fixture(scope="module")
def pair():
    return released_pair(OLD, NEW)


def test_a_removed_export_is_proven_at_run_time(pair):
    old, _, causes, pythons = pair
    c = causes["exports:dagster._core.instance"]
    w, why = witness.witness(c, old, DEFAULT_TARGET, pythons)
    assert why == "" and w.old_ok is True and w.new_ok is False and w.proves == "runtime"
    assert w.new.startswith("ImportError: cannot import name") and "\n" not in w.new
    assert "/" not in w.new  # the side's install path is not part of the outcome


def test_a_renamed_dunder_parameter_breaks_a_keyword_caller(pair):
    """`__exit__(exception_type=...)` as an old caller may write it: info before, now proven."""
    old, _, causes, pythons = pair
    c = causes["member:__exit__"]
    assert c.severity == "warning"  # the policy: a renamed parameter is more than info
    w, why = witness.witness(c, old, DEFAULT_TARGET, pythons)
    witness.judge(c, w, why)
    assert w.old == "passed" and "TypeError" in w.new
    assert c.severity == "breaking" and c.to_dict()["breakage"] == c.to_dict()["witness"]["proves"] == "runtime"


def test_a_new_read_only_property_breaks_a_subclass_assigning_that_name(pair):
    """1.11.6 made `_instance`-style names properties: a subclass keeping its own value under
    such a name fails on assignment; a plain new method of the same kind does not."""
    old, _, causes, pythons = pair
    proven = causes["added:EventMethods"]
    w, why = witness.witness(proven, old, DEFAULT_TARGET, pythons)
    assert w.proves == "runtime" and "has no setter" in w.new
    plain = causes["added:SettingsMethods"]
    w2, why2 = witness.witness(plain, old, DEFAULT_TARGET, pythons)
    witness.judge(plain, w2, why2)
    assert w2.old_ok and w2.new_ok and w2.proves is None
    assert plain.severity == "warning" and plain.unproven == "its witness passes on both sides"


def test_an_unproven_breaking_cause_is_a_warning_that_says_why():
    [c] = [c for c in build_causes(_annotation_findings()) if c.kind == "annotations"]
    assert c.severity == "breaking"
    witness.judge(c, *([None, witness.program(c, None, DEFAULT_TARGET)[1]]))
    assert c.severity == "warning" and c.unproven.startswith("no member whose old annotations a typed program")
    assert c.why.startswith("unproven:") and c.to_dict()["breakage"] is None


def _annotation_findings():
    from compat.rules import RULES

    rule = RULES["return-annotation-changed"]
    return [rule.finding("get_x", "return annotation narrowed", severity="breaking", old="-> Optional[int]",
                         new="-> int")]


def test_reports_carry_each_witness_and_the_cli_reruns_one(pair, tmp_path):
    old, new, causes, pythons = pair
    result = CheckResult(target=DEFAULT_TARGET, old_label=OLD, new_label=NEW,
                         findings=[f for c in causes.values() for f in c.findings
                                   if c.id in ("exports:dagster._core.instance", "member:stop_schedule")],
                         old_surface=old, new_surface=new, witness_sides=pythons, witness_jobs=2)
    data = json.loads(result.render("json", "breaking"))
    by_id = {c["id"]: c for c in data["causes"]}
    exports = by_id["exports:dagster._core.instance"]
    assert exports["severity"] == "breaking" and exports["breakage"] == exports["witness"]["proves"] == "runtime"
    assert exports["witness"]["old"] == "imported 7 names"
    # the new side's own dagster calls stop_schedule the way an old override accepts, but the
    # default it gained makes an old typed override incompatible: proven under mypy only
    stop = by_id["member:stop_schedule"]
    assert stop["severity"] == "breaking" and stop["breakage"] == stop["witness"]["proves"] == "typing"
    assert stop["unproven"] is None and stop["witness"]["old"] == "mypy accepts it"
    md = result.render("markdown", "breaking")
    assert "<details><summary>witness (proves: runtime)" in md and "cannot import name" in md
    assert "<details><summary>witness (proves: typing)" in md
    written = witness.write_dir(result.causes, tmp_path / "w")
    assert sorted(p.name for p in written) == ["exports_dagster._core.instance.py", "member_stop_schedule.py"]
    # the file runs as it is: on the old side it passes
    assert subprocess.run([pythons[0], str(written[0])], capture_output=True, cwd=tmp_path).returncode == 0

    proc = subprocess.run([sys.executable, "-m", "compat", "witness", "removed:protected", "--old", OLD, "--new", NEW],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "removed:protected: runtime" in proc.stdout and "'super' object has no attribute" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "compat", "witness", "nope:x", "--old", OLD, "--new", NEW],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "no cause 'nope:x'" in bad.stderr


def test_a_lost_dispatch_is_proven_by_a_probe_override_the_base_no_longer_reaches(pair):
    """`scheduler_debug_info` (no argument) reached an override of `_info` on 1.11.4 and no longer
    does on 1.11.6: the probe runs on a real in-memory instance with sqlite schedule storage."""
    old, _, causes, pythons = pair
    c = causes["dispatch-changed:scheduler_debug_info"]
    w, why = witness.witness(c, old, DEFAULT_TARGET, pythons)
    assert why == "" and "class Probe(Base)" in w.code
    assert w.old == "the override of _info was reached from scheduler_debug_info"
    assert w.new.startswith("AssertionError: scheduler_debug_info() returned without reaching") and w.proves == "runtime"


def test_a_lost_dispatch_needing_arguments_is_proven_with_real_ones(pair):
    """`create_run_for_job` needs a job: the probe builds a real one (an op and a job), and the
    1.11.4 base reaches the override of `create_run` from it, where 1.11.6's run domain does not."""
    old, _, causes, pythons = pair
    c = causes["dispatch-lost:create_run"]
    w, why = witness.witness(c, old, DEFAULT_TARGET, pythons)
    assert why == "" and "instance.create_run_for_job(argument('JobDefinition'))" in w.code
    assert w.old == "the override of create_run was reached from create_run_for_job"
    assert w.new.startswith("AssertionError: create_run_for_job() returned without reaching") and w.proves == "runtime"


def test_a_probe_builds_real_arguments_only_for_the_old_annotations_it_knows(pair):
    old, _, _, _ = pair
    assert witness_programs._placeholders(old.members["report_dagster_event"]) == "argument('DagsterEvent'), argument('str')"
    assert witness_programs._placeholders(old.members["create_reexecuted_run"]) == (
        "parent_run=argument('DagsterRun'), code_location=None, remote_job=None, strategy=None")
    assert witness_programs._argument_kind("Optional[Iterable[AssetKey]]") == "AssetKeys"
    assert witness_programs._argument_kind("Union[AssetMaterialization, AssetObservation]") == "AssetMaterialization"
    assert witness_programs._argument_kind("RemoteJob") is None and witness_programs._argument_kind(None) is None


@pytest.mark.slow
def test_a_probe_that_cannot_reach_the_hook_on_the_old_side_gives_way_to_another_edited_member():
    """1.11.5: `report_engine_event("compat")` refuses a message without a run before it reaches
    `report_dagster_event`; `report_run_canceled` with a real run reaches it on 1.11.4 and not on 1.11.5."""
    old, _, causes, pythons = released_pair(OLD, "dagster==1.11.5")
    c = causes["dispatch-lost:report_dagster_event"]
    assert witness.program(c, old, DEFAULT_TARGET)[0].count("instance.report_engine_event(") == 1
    w, why = witness.witness(c, old, DEFAULT_TARGET, pythons)
    assert why == "" and w.proves == "runtime"
    assert w.old.startswith("the override of report_dagster_event was reached from report_run_")
    assert "instance.report_engine_event(" not in w.code


@pytest.mark.slow
def test_a_base_the_class_lost_is_proven_by_an_isinstance_check_written_against_the_old_class():
    """Read backwards, 1.13.29 -> 1.11.4 loses the method mixins (`SettingsMethods`, ...): code that
    checks an instance against one of them, importing it where it was, runs on 1.13.29 only."""
    old, _, causes, pythons = released_pair("dagster==1.13.29", OLD)
    c = causes["class:base-removed"]
    w, why = witness.witness(c, old, DEFAULT_TARGET, pythons)
    assert why == "" and "from dagster._core.instance.methods.settings_methods import SettingsMethods" in w.code
    assert w.old == "every old ancestor is still in the MRO"
    assert w.new == "ModuleNotFoundError: No module named 'dagster._core.instance.methods'" and w.proves == "runtime"
    # nothing to check an instance against: no witness, and why
    assert witness.program(causes["class:class-moved"], old, DEFAULT_TARGET) == (
        None, "no witness of a `class-moved` change of the class is written yet")

"""Causes: every finding of every layer lands in exactly one cause, located at the edited code.

Fixtures are toy packages (target ``pkg.mod:Instance``); profiles are read from toy subclass
packages against the old toy base, like tests/test_profile.py does.
"""

from __future__ import annotations

import json
import textwrap

from compat.behaviour import replay
from compat.causes import build_causes, verdict
from compat.static.diff import compare_surfaces
from compat.model.findings import Finding
from compat.static.profile import profile_source
from compat.static.profile_checks import check_profile
from compat.result import CheckResult
from compat.rules.base import EXAMPLE_TARGET, example_files
from compat.static.extract import from_sources, snapshot
from trees import write_tree  # toy packages written to disk, as the profile tests do

# the refactoring plan's "internal manager", done wrong: get_run_by_id now reads the storage
# through a manager and no longer calls the overridable get_run_record_by_id; three untouched
# callers reach it
MANAGER_OLD = """
class Instance:
    def __init__(self, storage):
        self._run_storage = storage

    def get_run_record_by_id(self, run_id):
        return self._run_storage.get(run_id)

    def get_run_by_id(self, run_id):
        record = self.get_run_record_by_id(run_id)
        return record

    def create_run(self, run_id):
        return self.get_run_by_id(run_id)

    def launch_run(self, run_id):
        return self.get_run_by_id(run_id)

    def submit_run(self, run_id):
        return self.launch_run(run_id)
"""
MANAGER_NEW = """
class _RunManager:
    def __init__(self, instance):
        self._instance = instance

    def get(self, run_id):
        return self._instance._run_storage.get(run_id)


class Instance:
    def __init__(self, storage):
        self._run_storage = storage

    def get_run_record_by_id(self, run_id):
        return self._run_storage.get(run_id)

    def get_run_by_id(self, run_id):
        return _RunManager(self).get(run_id)

    def create_run(self, run_id):
        return self.get_run_by_id(run_id)

    def launch_run(self, run_id):
        return self.get_run_by_id(run_id)

    def submit_run(self, run_id):
        return self.launch_run(run_id)
"""

RENAME_OLD = """
class Instance:
    def _read_setting(self, key, default=None):
        return default

    def telemetry_enabled(self):
        return self._read_setting("telemetry", True)
"""
RENAME_NEW = """
class Instance:
    def _get_setting_value(self, key, default=None):
        return default

    def telemetry_enabled(self):
        return self._get_setting_value("telemetry", True)
"""


def surface(source: str):
    return from_sources(example_files(textwrap.dedent(source)), EXAMPLE_TARGET)


def _exactly_once(findings, causes):
    ids = [id(f) for c in causes for f in c.findings]
    assert sorted(ids) == sorted(id(f) for f in findings), "every finding belongs to exactly one cause"


def _missing_dispatch(subclass: str, hook: str, caller: str) -> Finding:
    cell = {"subclass": subclass, "scenario": "runs_lifecycle", "storage": "memory"}
    return replay._finding(replay.RULE_DISPATCH, cell, f"{replay.cell_label(cell)}: `{hook}` is gone",
                              f"> {hook}:call(str)  <- Instance.{caller} [self]", "> (nothing)",
                              audience="subclasses", change="missing", member_name=hook, members_missing=[hook],
                              members_added=[], caller=caller, caller_class="Instance", caller_via="self")


def test_an_internal_manager_is_one_cause_at_the_edited_method_with_its_callers_under_it():
    old, new = surface(MANAGER_OLD), surface(MANAGER_NEW)
    findings = compare_surfaces(old, new)
    # the static rules see the edited method and its three untouched callers lose the hook
    assert {f.member for f in findings if f.rule == "hook-no-longer-called"} == {
        "get_run_by_id", "create_run", "launch_run", "submit_run"}
    causes = build_causes(findings, old, new)
    _exactly_once(findings, causes)
    [cause] = [c for c in causes if c.kind.startswith("dispatch")]
    assert cause.id == "dispatch-lost:get_run_record_by_id"
    assert cause.edited == ["get_run_by_id"]
    assert cause.reached_from == ["create_run", "launch_run", "submit_run"]
    assert cause.location == new.members["get_run_by_id"].location
    assert cause.severity == "breaking"
    assert "get_run_by_id" in cause.title and "get_run_record_by_id" in cause.title
    assert "get_run_by_id" in cause.fix
    assert "_RunManager" in cause.new  # the helper the edited method now goes through


def test_callers_of_an_opaque_edit_count_no_more_than_the_edit():
    # the edited method hands self to a module function the analysis does not follow: only a
    # warning there, so the callers that merely reach it are no more than a warning either
    opaque = MANAGER_NEW.replace("return _RunManager(self).get(run_id)", "return fetch_run(self, run_id)")
    old, new = surface(MANAGER_OLD), surface(opaque)
    findings = compare_surfaces(old, new)
    assert [f.member for f in findings if f.rule == "hook-call-obscured"] == ["get_run_by_id"]
    assert {f.member for f in findings if f.rule == "hook-no-longer-called"} == {"create_run", "launch_run", "submit_run"}
    causes = build_causes(findings, old, new)
    _exactly_once(findings, causes)
    [cause] = [c for c in causes if c.kind.startswith("dispatch")]
    assert cause.edited == ["get_run_by_id"] and cause.reached_from == ["create_run", "launch_run", "submit_run"]
    assert cause.severity == "warning"


def test_behaviour_evidence_makes_an_opaque_edit_breaking_and_joins_it():
    opaque = MANAGER_NEW.replace("return _RunManager(self).get(run_id)", "return fetch_run(self, run_id)")
    old, new = surface(MANAGER_OLD), surface(opaque)
    static = compare_surfaces(old, new)
    cells = [_missing_dispatch(s, "get_run_record_by_id", "get_run_by_id") for s in ("spy", "spy:chain-leaf")]
    causes = build_causes(static + cells, old, new)
    _exactly_once(static + cells, causes)
    [cause] = [c for c in causes if c.kind.startswith("dispatch")]
    assert cause.severity == "breaking"
    assert cause.evidence()["behaviour"]["count"] == 2
    assert verdict(causes, "breaking").startswith("incompatible: 1 cause (1 breaking)")


def test_a_protected_rename_is_one_cause():
    old, new = surface(RENAME_OLD), surface(RENAME_NEW)
    findings = compare_surfaces(old, new)
    assert {f.rule for f in findings} >= {"protected-member-removed", "member-added"}
    causes = build_causes(findings, old, new)
    _exactly_once(findings, causes)
    renamed = [c for c in causes if c.kind == "renamed"]
    assert [c.id for c in renamed] == ["renamed:_read_setting"]
    assert renamed[0].title == "`_read_setting` was renamed to `_get_setting_value`"
    assert {f.rule for f in renamed[0].findings} == {"protected-member-removed", "member-added"}
    assert renamed[0].old.startswith("def _read_setting(") and renamed[0].new.startswith("def _get_setting_value(")


def test_a_removal_and_an_unrelated_addition_are_not_a_rename():
    old = surface(RENAME_OLD)
    new = surface(RENAME_NEW.replace("def _get_setting_value(self, key, default=None)", "def _get_setting_value(self, key)")
                  .replace('_get_setting_value("telemetry", True)', '_get_setting_value("telemetry")'))
    causes = build_causes(compare_surfaces(old, new), old, new)
    assert not [c for c in causes if c.kind == "renamed"]
    assert any(c.kind == "removed" for c in causes)


def test_a_fuzz_program_joins_the_cause_of_the_member_it_entered():
    old, new = surface(MANAGER_OLD), surface(MANAGER_NEW)
    static = compare_surfaces(old, new)
    program = Finding(rule="fuzz-mismatch", severity="breaking", audience="subclasses", member="spy:x/create_run",
                      message="a 1-step program differs", old=json.dumps({"overrides_dispatched": ["run_storage"]}),
                      new=json.dumps({"overrides_dispatched": []}), source="fuzz",
                      details={"subclass": "spy:x", "storage": "memory", "last_op": "create_run", "snippet": "print(1)", "old_dispatched": ["get_run_record_by_id"],
                               "new_dispatched": [], "entry": "create_run"})
    causes = build_causes(static + [program], old, new)
    [cause] = [c for c in causes if c.kind.startswith("dispatch")]
    assert program in cause.findings
    assert cause.reproduction == "print(1)"  # the shrunk program is the reproduction


def test_identical_changes_on_two_members_are_one_cause_that_shows_the_code_of_each():
    old = surface("""
        class Instance:
            def health_required(self):
                return True

            def health_supported(self):
                return True
    """)
    new = surface("""
        class Instance:
            def health_required(self, name):
                return True

            def health_supported(self, name):
                return True
    """)
    findings = compare_surfaces(old, new)
    causes = build_causes(findings, old, new)
    assert len(causes) == 1 and causes[0].severity == "breaking"
    assert "`health_required`, `health_supported`" in causes[0].title
    cause = causes[0]  # and it shows the code of each member, not the first alone
    assert cause.old == "def health_required(self)\n\ndef health_supported(self)"
    assert "def health_required(\n" in cause.new and "def health_supported(\n" in cause.new
    assert cause.location == new.members["health_required"].location


BASE = """
class Instance:
    def __init__(self):
        self._settings = {}

    def get_run_record_by_id(self, run_id):
        return None

    def get_run_by_id(self, run_id):
        return self.get_run_record_by_id(run_id)
"""
BASE_NEW = """
class Instance:
    def __init__(self):
        self._settings = {}

    def get_run_record_by_id(self, run_id):
        return None

    def get_run_by_id(self, run_id):
        return None
"""
CLOUD = """
from base.core import Instance


class CloudInstance(Instance):
    def get_run_record_by_id(self, run_id):
        return ("cloud", run_id)
"""


def test_downstream_subclasses_affected_are_named_from_the_profiles(tmp_path):
    old_dir = write_tree(tmp_path / "old", {"base/__init__.py": "", "base/core.py": BASE})
    new_dir = write_tree(tmp_path / "new", {"base/__init__.py": "", "base/core.py": BASE_NEW})
    pkg = write_tree(tmp_path / "src", {"cloudpkg/__init__.py": "", "cloudpkg/sub.py": CLOUD})
    target = "base.core:Instance"
    profile = profile_source(str(pkg / "cloudpkg"), target=target, dagster_paths=[str(old_dir)])
    old = snapshot(target, [str(old_dir)], use_cache=False)
    new = snapshot(target, [str(new_dir)], use_cache=False)
    findings = compare_surfaces(old, new) + check_profile(profile, new, search_paths=[str(new_dir)])
    assert {f.source for f in findings} == {"surface", "profile"}
    result = CheckResult(target=target, old_label="v1", new_label="v2", findings=findings, old_surface=old,
                         new_surface=new, profiles=[profile])
    [cause] = [c for c in result.causes if c.kind.startswith("dispatch")]
    _exactly_once(result.findings, result.causes)
    assert cause.edited == ["get_run_by_id"]
    assert any(str(d).startswith(f"{profile.label}: CloudInstance") for d in cause.downstream)
    assert cause.packages == [profile.package]
    assert result.causes[0] is cause  # a cause that breaks a real downstream class comes first
    assert f"affects {profile.package}" in verdict(result.causes, "breaking")
    assert result.exit_code("breaking") == 1 and result.exit_code("never") == 0
    text = result.render("text")
    assert text.splitlines()[1].startswith("incompatible: 1 cause (1 breaking)")


def test_causes_are_deterministic_and_serialize():
    old, new = surface(MANAGER_OLD), surface(MANAGER_NEW)
    findings = compare_surfaces(old, new)
    a = [c.to_dict() for c in build_causes(findings, old, new)]
    b = [c.to_dict() for c in build_causes(list(reversed(findings)), old, new)]
    assert a == b
    json.dumps(a)  # plain data
    assert all(set(d) >= {"id", "severity", "location", "evidence", "findings", "fix", "affects"} for d in a)


def test_a_removed_member_is_located_where_its_class_now_is_and_a_prefix_names_the_repository_file():
    old_src = "class Instance:\n    def keep(self):\n        pass\n\n    def _gone(self, x):\n        return x\n"
    new_src = "\n" * 6 + "class Instance:\n    def keep(self):\n        pass\n"
    old = from_sources({"pkg/__init__.py": "", "pkg/mod.py": old_src}, "pkg.mod:Instance")
    new = from_sources({"pkg/__init__.py": "", "pkg/mod.py": new_src}, "pkg.mod:Instance")
    result = CheckResult(target="pkg.mod:Instance", old_label="old", new_label="new",
                         findings=compare_surfaces(old, new), old_surface=old, new_surface=new,
                         path_prefix="python_modules/pkg/")
    (cause,) = [c for c in result.causes if c.kind == "removed"]
    assert old.members["_gone"].location == "pkg/mod.py:5"
    assert cause.location == "python_modules/pkg/" + new.cls.location == "python_modules/pkg/pkg/mod.py:7"
    github = result.render("github")
    assert "file=python_modules/pkg/pkg/mod.py,line=7," in github


TWO_HOOKS_OLD = """
class Instance:
    def create_run(self, run_id):
        return run_id

    def should_store_event(self, event):
        return True

    def launch_run(self, run_id):
        return self.create_run(run_id)

    def report_event(self, event):
        return self.should_store_event(event)
"""
# 1.11.5's domain helpers: both callers now go through a helper that reads the storage itself
TWO_HOOKS_NEW = """
class _Domain:
    def __init__(self, instance):
        self._instance = instance

    def create_run(self, run_id):
        return run_id

    def report_event(self, event):
        return True
""" + TWO_HOOKS_OLD.replace("return self.create_run(run_id)", "return _Domain(self).create_run(run_id)").replace(
    "return self.should_store_event(event)", "return _Domain(self).report_event(event)")


def test_a_cell_that_loses_two_dispatches_shows_both_causes():
    """A cell is filed under its first divergence (create_run); the cause of the second member it
    no longer dispatches to (should_store_event) lists it as `also`, so the behaviour layer sees
    both causes (in a history too), and the cell is still counted once."""
    old, new = surface(TWO_HOOKS_OLD), surface(TWO_HOOKS_NEW)
    static = compare_surfaces(old, new)
    cell = _missing_dispatch("spy", "create_run", "launch_run")
    cell.details["members_missing"] = ["create_run", "should_store_event"]
    causes = build_causes(static + [cell], old, new)
    _exactly_once(static + [cell], causes)
    by_id = {c.id: c for c in causes}
    lost_run, lost_store = by_id["dispatch-lost:create_run"], by_id["dispatch-lost:should_store_event"]
    assert cell in lost_run.findings and lost_run.also == []
    assert lost_store.also == [cell] and "behaviour" not in lost_store.evidence()
    assert lost_store.layers()["behaviour"] == 1
    assert "also behaviour 1 cell filed under another cause" in lost_store.evidence_line()
    assert lost_store.to_dict()["also"][0]["member"] == cell.member


def test_two_removed_protected_members_are_one_cause_that_shows_the_code_of_both():
    """Removals of one visibility are one cause (one decision, one fix); its code shows every
    removed member, not the first alone."""
    old = surface("""
        class Instance:
            def _read_setting(self, key):
                return key

            def _write_setting(self, key, value):
                return value

            def get(self):
                return 1
    """)
    new = surface("""
        class Instance:
            def get(self):
                return 1
    """)
    findings = compare_surfaces(old, new)
    assert sorted(f.member for f in findings if f.rule == "protected-member-removed") == ["_read_setting", "_write_setting"]
    [cause] = build_causes(findings, old, new)
    assert cause.id == "removed:protected"
    assert cause.old == "def _read_setting(self, key)\ndef _write_setting(self, key, value)"
    assert cause.new is None


def test_behaviour_titles_name_the_method_the_argument_and_both_outcomes():
    """Not the scenario's step id ("step `add_dynamic_partitions:None_name` raises differently")
    but what a reviewer reads: the method, the argument case, the old and new outcome; a fix that
    asks to keep the exception type only where the type changed."""
    from compat.causes import build_causes

    def cell(step, old_type, new_type, severity="breaking"):
        return Finding(rule=replay.RULE_EXCEPTION.id, severity=severity, audience="subclasses", member=step,
                       message=f"step {step!r} raises differently", source="behaviour",
                       details={"step": step, "old_type": old_type, "new_type": new_type,
                                "cell": {"subclass": "spy", "scenario": "partitions", "storage": "memory"}})

    titles = {c.id: (c.title, c.fix) for c in build_causes([
        cell("add_dynamic_partitions:None_name", "CheckError", "DagsterInvariantViolationError"),
        cell("get_run_by_id:int", None, "TypeError"),
        cell("delete_run:missing", "DagsterRunNotFoundError", "DagsterRunNotFoundError", "warning"),
        cell("ticks", "KeyError", "ValueError"),
    ])}
    assert titles["exception:add_dynamic_partitions:None_name"][0] == (
        "`add_dynamic_partitions` with `None_name` raised `CheckError`, now raises `DagsterInvariantViolationError`")
    assert titles["exception:get_run_by_id:int"][0] == "`get_run_by_id` with `int` returned a value, now raises `TypeError`"
    assert "same exception type" not in titles["exception:get_run_by_id:int"][1]
    title, fix = titles["exception:delete_run:missing"]
    assert title == "`delete_run` with `missing` raises `DagsterRunNotFoundError` with another message"
    assert "Keep raising the same exception type" not in fix and "still raises the same exception type" in fix
    assert titles["exception:ticks"][0] == "step `ticks` raised `KeyError`, now raises `ValueError`"

"""`compat coverage`: the behaviour cells run under coverage.py in real worker processes, and the
report says per member of the target whether a scenario executes it."""

from __future__ import annotations

import sys

import pytest

from compat import cli
from compat.behaviour import coverage


@pytest.fixture(scope="module")
def report():
    return coverage.measure(sys.executable, subclasses=["spy"], scenarios=["runs_lifecycle"], storages=["memory"],
                            profiles=[{"subclasses": {"x": {"overrides": {"add_run_tags": {}, "get_backfills": {}}}}}])


def test_members_the_scenario_calls_are_executed_and_others_are_not(report):
    by_name = {m.name: m for m in report.members}
    assert by_name["add_run_tags"].executed and by_name["add_run_tags"].reachable
    assert not by_name["get_backfills"].executed and by_name["get_backfills"].reachable
    assert not by_name["get_backfills"].missed == []
    assert not by_name["create_run_for_job"].reachable
    s = report.summary()
    assert s["cells"] == 1 and 0 < s["members_executed"] < s["members"]
    assert s["reachable"] >= 2 and s["reachable_executed"] < s["reachable"]
    assert 0 < s["lines_executed"] < s["lines"]
    assert any(f.startswith("methods/") for f in report.files)  # the whole package, mixins included


def test_report_lists_unexecuted_reachable_members_first(report):
    text = report.render(verbose=True)
    assert "members executed:" in text and "lines executed:" in text
    never = text.split("never executed")[1].splitlines()[1]
    assert never.strip().startswith("*")  # a reachable one leads
    assert "get_backfills" in text


def test_every_public_and_protected_member_with_code_is_listed(report):
    names = {m.name for m in report.members}
    assert {"get_runs", "_run_storage_impl", "telemetry_enabled", "create_run"} <= names
    assert not any(n.startswith("__") for n in names)


def test_cli_prints_the_report(tmp_path):
    out = tmp_path / "cov.txt"
    assert cli.main(["coverage", "--python", sys.executable, "--scenarios", "configuration_defaults",
                     "--subclasses", "spy", "--storages", "memory", "-o", str(out)]) == 0
    text = out.read_text()
    assert "(gate cells: 1)" in text
    never = text.split("never executed")[1]
    assert "get_backfills " in never and "telemetry_enabled " not in never


def test_parameters_given_another_value_than_their_default_are_told_from_those_never_passed(report):
    params = {(p.member, p.name): p for p in report.params}
    # runs_lifecycle asks get_runs for ascending=True and with filters, never with bucket_by
    assert params[("get_runs", "ascending")].exercised and params[("get_runs", "filters")].exercised
    assert not params[("get_runs", "bucket_by")].exercised
    assert params[("get_runs", "bucket_by")].none_allowed and not params[("get_runs", "ascending")].none_allowed
    # a member no cell runs has no parameter exercised
    assert not any(p.exercised for p in report.params if p.member == "get_backfills")
    s = report.summary()
    assert 0 < s["params_exercised"] < s["params"] and s["params_none_passed"] <= s["params_none_allowed"]
    assert "parameters no call gives another value" in report.render(verbose=True)
    assert "get_runs(bucket_by)" in report.render(verbose=True)


def test_branches_and_raise_statements_of_the_package_are_counted(report):
    s = report.summary()
    assert 0 < s["branches_taken"] < s["branches"]
    assert s["raises"] > 0 and s["raises_reached"] < s["raises"]
    conflict = [r for r in report.raises if r.file == "runs/run_domain.py" and "register_managed_run" in r.function]
    assert conflict and not any(r.reached for r in conflict)
    text = report.render(verbose=True)
    assert "branches taken:" in text and "raises reached:" in text and "runs/run_domain.py:" in text
    data = report.as_dict()
    assert data["summary"]["branches"] == s["branches"] and len(data["raises"]) == s["raises"]


def test_raise_sites_name_their_function(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f(x):\n    if x:\n        raise ValueError(x)\n\n"
                   "class C:\n    def g(self):\n        def h():\n            raise\n        return h\n")
    assert coverage.raise_sites(src) == [(3, "f"), (8, "C.g.h")]

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

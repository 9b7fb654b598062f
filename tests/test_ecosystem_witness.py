"""Witnesses of the ecosystem's breaking causes: the downstream class itself, on both dagsters.

The released packages' classes (dagster-cloud, dagster-nomad, dagster-polars, dagster-aws,
dagster-webserver at their releases for dagster 1.11.4) are imported on real dagster 1.11.4 and
1.13.29, each side's interpreter in a subprocess, the release's wheel and a pinned runtime on its
path; the typing witnesses run the pinned mypy on the packages' own modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from compat.causes import Cause
from compat.model.findings import BREAKING, WARNING, Finding
from compat.tools import ecosystem_witness

SIDES = ["--old", "dagster==1.11.4", "--new", "dagster==1.13.29"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compat", *args], capture_output=True, text=True,
                          env={**os.environ, "COMPAT_QUIET": "1"}, stdin=subprocess.DEVNULL, timeout=1800)


def _finding(rule: str, subclass: str, base: str, member: str, **extra) -> Finding:
    return Finding(rule, BREAKING, "subclasses", f"{subclass.rsplit('.', 1)[-1]}.{member}", "m", source="profile",
                   details={"subclass": subclass, "member_name": member, "base": base, "package": "pkg 1.0"}, **extra)


def test_each_rule_gets_its_program_and_an_unknown_one_says_why():
    base = "dagster._core.storage.event_log.base:EventLogStorage"
    sig = Cause("member:x@EventLogStorage", "member", "x", BREAKING, "t",
                findings=[_finding(ecosystem_witness.SIGNATURE, "pkg.mod.Storage", base, "x")])
    [job], why = ecosystem_witness.jobs_for(sig, {base: [base, "dagster.moved:EventLogStorage"]})
    assert why == "" and job.kind == "runtime" and "from pkg.mod import Storage as Downstream" in job.code
    assert "('dagster.moved', 'EventLogStorage')" in job.code  # the base where the new dagster has it
    compile(job.code, "witness.py", "exec")
    typed = Cause("member:y@B", "member", "y", BREAKING, "t", findings=[_finding(
        ecosystem_witness.RETURNS, "pkg.sub.Manager", "dagster.x:B", "y", old_location="pkg/sub.py:12")])
    [job], _ = ecosystem_witness.jobs_for(typed, {})
    assert (job.kind, job.module, job.member) == ("typing", "pkg.sub", "y")
    other = Cause("name-clash:z@B", "name-clash", "z", BREAKING, "t",
                  findings=[_finding(ecosystem_witness.CLASH, "pkg.sub.Unknown", "dagster.x:B", "_z")])
    assert ecosystem_witness.jobs_for(other, {}) == ([], "no witness of `subclass-name-clash` for Unknown is written yet")


def test_a_pair_follows_its_causes_when_none_of_them_stays_breaking():
    a = _finding(ecosystem_witness.SIGNATURE, "pkg.A", "dagster.x:B", "m")
    b = _finding(ecosystem_witness.SIGNATURE, "pkg.B", "dagster.x:B", "m")
    b2 = _finding(ecosystem_witness.CLASH, "pkg.B", "dagster.x:B", "_n")
    proven = Cause("c1", "member", "m", BREAKING, "t", findings=[a])
    unproven = Cause("c2", "member", "m", WARNING, "t", findings=[b])
    other = Cause("c3", "name-clash", "n", BREAKING, "t", findings=[b2])
    assert ecosystem_witness.unproven_pairs([proven, unproven, other]) == set()  # pkg.B still breaks by c3
    other.severity = WARNING
    assert ecosystem_witness.unproven_pairs([proven, unproven, other]) == {("pkg.B", "dagster.x:B")}


@pytest.mark.slow
def test_the_static_only_breaking_causes_are_run_on_both_dagsters(tmp_path):
    out = tmp_path / "e.json"
    proc = _run("ecosystem", *SIDES, "--packages", "dagster-cloud", "dagster-nomad", "dagster-polars",
                "--format", "json", "--fail-on", "never", "--report", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    causes = {c["id"]: c for c in report["causes"]}
    # dagster 1.13.29 passes `partition_filter` / `after_cursor` to the event log storage, which
    # dagster-cloud 1.11.4's GraphQLEventLogStorage does not take; its module no longer imports on
    # 1.13.29, so there its `def` is read from the package's source
    for member, keyword in [("get_asset_check_execution_history", "partition_filter"),
                            ("get_latest_asset_check_execution_by_key", "partition_filter"),
                            ("get_latest_storage_id_by_partition", "after_cursor")]:
        c = causes[f"member:{member}@EventLogStorage"]
        assert c["severity"] == "breaking" and c["witness"]["proves"] == "runtime", c
        assert "takes all" in c["witness"]["old"], c["witness"]
        assert f"unexpected keyword argument '{keyword}'" in c["witness"]["new"], c["witness"]
        assert "GraphQLEventLogStorage" in c["witness"]["code"]
    # the base's __enter__ replaces the agent instance's own exit stack: what it kept is never closed
    stack = causes["name-clash:exit_stack@DagsterInstance"]
    assert stack["witness"]["proves"] == "runtime" and "never closed" in stack["witness"]["new"], stack["witness"]
    assert "was closed" in stack["witness"]["old"]
    # both dagsters call from_config_value(inst_data, value), which the nomad launcher's
    # staticmethod takes: unproven, a warning, and so is its pair
    nomad = causes["member:from_config_value@ConfigurableClass"]
    assert nomad["severity"] == "warning" and nomad["unproven"] == "its witness passes on both sides", nomad
    # the polars IO manager stores and loads an asset on both: UPathIOManager assigned _base_path before too
    polars = causes["name-clash:base_path@UPathIOManager"]
    assert polars["severity"] == "warning" and "loaded back" in polars["witness"]["new"], polars["witness"]
    verdicts = {p["subclass"].rsplit(".", 1)[-1]: p["verdict"] for p in report["pairs"] if p["verdict"] != "compatible"}
    assert verdicts == {"DagsterCloudAgentInstance": "breaking", "GraphQLEventLogStorage": "breaking",
                        "NomadRunLauncher": "warning", "BasePolarsUPathIOManager": "warning"}, verdicts
    # no witness runs without behaviour: the profile's verdicts stand
    static = _run("ecosystem", *SIDES, "--packages", "dagster-nomad", "--no-behaviour", "--format", "json",
                  "--fail-on", "never")
    [c] = [c for c in json.loads(static.stdout)["causes"] if c["id"].startswith("member:from_config_value")]
    assert c["severity"] == "breaking" and c["witness"] is None


@pytest.mark.slow
def test_the_typing_only_causes_are_proven_by_mypy_on_the_packages_own_modules(tmp_path):
    out = tmp_path / "e.json"
    proc = _run("ecosystem", *SIDES, "--packages", "dagster-aws", "dagster-webserver", "--format", "json",
                "--fail-on", "never", "--report", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    causes = {c["id"].split("@")[0]: c for c in json.loads(out.read_text())["causes"]}
    # the blob compute log managers declare the old, wider return: mypy rejects the override on 1.13.29 only
    c = causes["member:get_log_keys_for_log_key_prefix"]
    assert c["severity"] == "breaking" and c["witness"]["proves"] == "typing", c
    assert c["witness"]["old"] == "mypy accepts dagster_aws.s3.compute_log_manager's `get_log_keys_for_log_key_prefix`"
    assert c["witness"]["new"].startswith("mypy: dagster_aws/s3/compute_log_manager.py:"), c["witness"]
    assert "incompatible with return type" in c["witness"]["new"] and "[override]" in c["witness"]["new"]
    # the base's new return is its class's type variable, which the webserver's subclass leaves
    # unbound: mypy accepts the override on both, so the profile's typing break is unproven
    web = causes["member:create_request_context"]
    assert web["severity"] == "warning" and web["witness"]["proves"] is None, web
    assert web["unproven"] == "its typing witness passes on both sides (the type checker accepts both)"
    rows = {(p["subclass"].rsplit(".", 1)[-1], p["verdict"], p["breakage"]) for p in json.loads(out.read_text())["pairs"]
            if p["verdict"] != "compatible"}
    assert rows == {("WebserverDebugWorkspaceProcessContext", "warning", None),
                    ("S3ComputeLogManager", "breaking", "typing")}, rows

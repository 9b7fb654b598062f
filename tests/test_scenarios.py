"""Scenarios run whole on every dagster the harness drives: a member an older release lacks is
one step's exception, never the end of the scenario (the steps after it still record)."""

from __future__ import annotations

import json

import pytest

from compat.behaviour import replay


@pytest.mark.slow
def test_the_arguments_scenario_runs_to_its_end_on_a_release_without_a_member(tmp_path):
    from compat.envs import parse_spec, python_for

    old = python_for(parse_spec("dagster==1.11.4"))
    [path] = replay.record(old, str(tmp_path), ["spy"], ["arguments_non_default"], storages=["sqlite"])
    trace = json.loads(path.read_text())
    assert trace["meta"]["dagster_version"] == "1.11.4"
    assert trace["exception"] is None and trace["cell_error"] is None
    res = trace["result"]
    # 1.11.4 has no get_existing_dynamic_partitions: both of its steps say so, as data
    for step in ("dynamic_existing", "dynamic_existing_some"):
        assert res[step]["__exception__"]["type"] == "AttributeError", res[step]
    # and every other step of the scenario is a value
    values = [k for k, v in res.items() if not (isinstance(v, dict) and "__exception__" in v)]
    assert {"runs_limit_ascending", "logs_of_type", "daemon_statuses", "has_missing_snapshot"} <= set(values)

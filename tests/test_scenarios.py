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


def test_the_refusals_scenario_sees_each_refusal_of_the_base_and_records_it_twice_the_same():
    """A base that stops refusing an incomplete construction or a bad dagster.yaml, or refuses it
    with another class or message (a field list printed as a tuple), changes one of these steps."""
    from compat.behaviour.scenarios import ACCEPTED_CONFIGS, REFUSED_CONFIGS, UNBUILT_CONFIGS
    from compat.behaviour.worker import run_cell

    cell = {"subclass": "spy", "scenario": "configuration_refusals", "storage": "sqlite"}
    first, second = run_cell(**cell), run_cell(**cell)
    assert first == second and first["exception"] is None and first["cell_error"] is None
    res = first["result"]
    assert res["complete"] == "DagsterInstance"
    refused = {k: v["__exception__"] for k, v in res.items() if isinstance(v, dict) and "__exception__" in v}
    accepted = {"complete", "instance_config_schema", "ref_round_trip"} | {f"yaml_ok:{name}" for name in ACCEPTED_CONFIGS}
    assert set(refused) == set(res) - accepted
    assert {res[f"yaml_ok:{name}"] for name in ACCEPTED_CONFIGS} == {"DagsterInstance"}
    assert res["ref_round_trip"] is True
    # documents naming what is not installed here: refused past validation, each for its reason
    assert "dagster_postgres" in refused["yaml_unbuilt:storage_postgres"]["message"]
    assert "config_schema" in refused["yaml_unbuilt:instance_class_base"]["message"]
    # the schema field by field: a field made required, or another default, changes it
    schema = res["instance_config_schema"]
    assert schema["auto_materialize.run_tags"] == {"required": False, "type": "PERMISSIVE_SHAPE"}
    assert schema["nux.enabled"]["required"] is False
    # from_config reads the file it is given, not dagster.yaml
    assert "other.yaml" in refused["yaml_named_file"]["message"]
    assert {f"yaml:{name}" for name in REFUSED_CONFIGS} | {f"yaml_unbuilt:{name}" for name in UNBUILT_CONFIGS} <= set(refused)
    assert refused["without:compute_log_manager"]["type"] == "CheckError"
    assert "Compute log manager" in refused["without:compute_log_manager"]["message"]
    assert refused["wrong_type:run_storage"]["type"] == "ParameterCheckError"
    assert "['block_op_concurrency_limited_runs', 'op_concurrency_slot_buffer']" in \
        refused["yaml:runs_and_queue_block"]["message"]
    assert {refused[f"yaml:{name}"]["type"] for name in REFUSED_CONFIGS} == {"DagsterInvalidConfigError"}


def test_the_arguments_scenario_passes_a_selection_and_asks_the_caching_loader():
    from compat.behaviour.worker import run_cell

    res = run_cell("spy", "arguments_non_default", "memory")["result"]
    # create_run_for_job forwards both selections to the run: a dropped one is None here
    assert res["selection_forwarded"] == {"__tuple__": [["emit", "double"], {"__set__": ["double", "emit"]}]}
    # the loader answers as the instance does, as a set
    assert res["dynamic_loader_existing"] == res["dynamic_existing_some"] == {"__set__": ["a", "c"]}


def test_members_no_other_scenario_runs_are_run_and_their_refusals_recorded():
    from compat.behaviour.worker import run_cell

    trace = run_cell("spy", "runs_rarely_called", "memory")
    assert trace["exception"] is None and trace["cell_error"] is None
    res = trace["result"]
    assert res["resume_missing"]["__exception__"]["type"] == "DagsterInvariantViolationError"
    assert "not in a state that can be resumed" in res["resume_not_in_progress"]["__exception__"]["message"]
    assert res["op_selection_not_a_list"]["__exception__"]["type"] == "ParameterCheckError"
    # a watched run's events reach the watcher until the watch ends
    assert res["watched"] == ["while watched"]
    assert "watched" not in run_cell("spy", "runs_rarely_called", "sqlite")["result"]  # sqlite watches from a thread


def test_cursors_filters_and_ascending_each_change_what_the_cursor_scenario_records():
    from compat.behaviour.worker import run_cell

    res = run_cell("spy", "arguments_cursors_and_filters", "sqlite")["result"]
    # the oldest first, then the rest after its cursor, ascending: a dropped cursor repeats p0,
    # a dropped ascending reverses the rest
    assert res["fetch_materializations:paged"] == {"__tuple__": [["p0"], ["p1", "p2"], False]}
    assert res["materialized_partitions_before"] == ["p0", "p1"] and res["materialized_partitions_after"] == ["p2"]
    assert res["run_ids_filtered"] == ["run1"] and res["run_records_cursor"] == ["run1", "run0"]
    assert res["ticks_before_after"] == [2.0, 1.0] and res["ticks_after_purge"] == ["SUCCESS", "SUCCESS"]
    assert res["report_dagster_event_at"] == {"__tuple__": [True, "at a time"]}
    assert res["dynamic_paginated"] == {"__tuple__": [["a", "b"], ["c", "d"]]}


def test_the_refs_scenario_records_each_storage_class_and_its_config_text():
    """A ref that names another class, or writes a storage's config in another YAML style (flow
    style, keys in another order), changes one of these steps; postgres and mysql refs are made
    without their packages."""
    from compat.behaviour.scenarios.refs import REF_DOCUMENTS
    from compat.behaviour.worker import run_cell

    trace = run_cell(subclass="spy", scenario="configuration_refs", storage="sqlite")
    assert trace["exception"] is None and trace["cell_error"] is None
    res = trace["result"]
    assert {f"from_dir:{name}" for name in REF_DOCUMENTS} | {"get_ref"} <= set(res)
    block = ("{db}_db:\n  db_name: dagster\n  hostname: db.invalid\n  password: secret\n  port: {port}\n"
             "  username: compat\n")
    for db, module, port, classes in (
            ("postgres", "dagster_postgres", 5433, ("DagsterPostgresStorage", "PostgresRunStorage")),
            ("mysql", "dagster_mysql", 3307, ("DagsterMySQLStorage", "MySQLRunStorage"))):
        ref = res[f"from_dir:{db}"]
        assert ref["storage_data"] == [module, classes[0], block.format(db=db, port=port)]
        assert ref["run_storage_data"] == [module, classes[1], block.format(db=db, port=port)]
    components = res["from_dir:components"]
    assert components["storage_data"][1] == "CompositeStorage"
    assert components["run_storage_data"] == ["dagster._core.storage.runs", "SqliteRunStorage",
                                              "base_dir: <tmp>/ref-components/base\n"]
    assert components["compute_logs_data"][1] == "NoOpComputeLogManager"
    assert res["from_dir:sqlite"]["storage_data"][1] == "DagsterSqliteStorage"


def test_the_reexecution_scenario_retries_a_failed_run_from_an_in_process_location():
    """Each strategy's run as create_reexecuted_run makes it: a retry that no longer says it is
    one, runs other steps, drops the parent's or the caller's tags or the new run config, changes
    one of these steps."""
    from compat.behaviour.worker import run_cell

    trace = run_cell(subclass="spy", scenario="runs_reexecution_from_location", storage="sqlite")
    assert trace["exception"] is None and trace["cell_error"] is None
    res = trace["result"]
    assert res["parent_status"] == "DagsterRunStatus.FAILURE"
    refused = res["submit_without_remote_origin"]["__exception__"]
    assert refused["type"] == "CheckError" and "External pipeline origin" in refused["message"]
    retry, tagged, every = res["from_failure"], res["from_failure:parent_tags"], res["all_steps"]
    assert retry["step_keys_to_execute"] == ["boom"] and every["step_keys_to_execute"] is None
    assert retry["tags"]["dagster/is_resume_retry"] == "true" and "dagster/is_resume_retry" not in every["tags"]
    assert retry["parent_run_id"] == retry["root_run_id"] == "<parent>" and retry["is_new_run"]
    assert "owner" not in retry["tags"] and tagged["tags"]["owner"] == "compat" and tagged["tags"]["extra"] == "yes"
    assert every["run_config"] == {"ops": {}} and retry["keeps_job_tags"]
    assert res["from_asset_failure"]["__exception__"]["type"] == "DagsterInvalidSubsetError"


def _tags_of(step):
    return step["tags"] if "__exception__" not in step else step


def test_re_execution_strategies_keep_a_requested_backfill_and_refuse_what_has_nothing_to_retry():
    """Beside the plain retries (runs_reexecution_from_location): a base that keeps a finished
    backfill's tag, retries other assets, or stops refusing a run with nothing to retry changes
    one of these steps."""
    from compat.behaviour.worker import run_cell

    first = run_cell("spy", "runs_reexecution_strategies", "sqlite")
    assert first["exception"] is None and first["cell_error"] is None
    res = first["result"]
    assert {"team", "extra", "dagster/backfill"} <= set(_tags_of(res["from_failure:backfill_requested"]))
    assert "dagster/backfill" not in _tags_of(res["parent_tags:backfill_done"])
    assert "team" not in _tags_of(res["all_steps:parent_tags_no_backfill"])
    # the asset that raised, and the one materialized whose blocking check failed, with the check
    assert res["from_asset_failure"]["asset_selection"] == ["reexec_checked_asset", "reexec_failing_asset"]
    assert res["from_asset_failure"]["asset_check_selection"] == ["reexec_checked_asset:reexec_blocking_check"]
    assert res["from_asset_failure"]["tags"]["dagster/is_asset_resume_retry"] == "true"
    for refused in ("from_failure:nothing_failed", "from_failure:no_step_failed", "strategy_not_a_strategy"):
        assert "__exception__" in res[refused], refused
    assert res["from_failure:no_step_failed"]["__exception__"]["type"] == "DagsterInvalidSubsetError"
    assert run_cell("spy", "runs_reexecution_strategies", "sqlite")["result"] == res


def test_instigators_of_an_in_process_location_start_stop_and_reset_from_every_stored_state():
    from compat.behaviour.worker import run_cell

    res = run_cell("spy", "schedules_from_location", "sqlite")["result"]
    status = {k: v[2] for k, v in res.items() if isinstance(v, list) and len(v) == 3}
    assert status["start_schedule"] == "RUNNING" and status["stop_schedule"] == "STOPPED"
    assert status["start_sensor"] == status["start_sensor:running"] == status["start_sensor:stopped"] == "RUNNING"
    assert status["stop_sensor"] == "STOPPED"
    # a sensor running by default is not stored as running when started; stopping stores it
    assert status["start_sensor:default_running"] == "DECLARED_IN_CODE"
    assert status["stop_sensor:default_running"] == "STOPPED"
    # a schedule's state stored under the sensor's ids is replaced by the sensor's own
    assert res["start_sensor:schedule_stored"][1] == "SENSOR" == res["stop_sensor:schedule_stored"][1]


def test_the_remaining_arguments_change_what_comes_back():
    from compat.behaviour.worker import run_cell

    res = run_cell("spy", "arguments_remaining", "memory")["result"]
    assert res["asset_keys_for_run:one"] == res["asset_keys_for_run:set"] == ["args_parts"]
    assert res["asset_keys_for_run:none_of"] == [] and res["asset_partitions_for_run:none_of"] == {}
    assert res["asset_partitions_for_run:one"] == {"args_parts": ["x"]}
    assert (res["event_summaries:of_run"], res["event_summaries:of_other_run"]) == (1, 0)
    assert res["report_run_failed:failure_data"]["__tuple__"][2] == "STEP_FAILURE"
    assert res["register_managed_run:selection_and_origin"]["__tuple__"] == [["launched_op"], "launched_job"]
    assert res["ephemeral:preload_settings"] == ["DagsterInstance", 1, True]
    assert res["local_temp:overrides"] == ["DagsterInstance", 0, True, 3]


def test_tick_retention_follows_the_settings_per_instigator_type():
    from compat.behaviour.worker import run_cell

    res = run_cell("spy", "configuration_retention", "memory")["result"]
    defaults = run_cell("spy", "configuration_retention_defaults", "memory")["result"]
    schedule = {k: v for k, v in res["get_tick_retention_settings:SCHEDULE"].items() if k != "__order__"}
    assert set(schedule.values()) == {30}
    sensor = res["get_tick_retention_settings:SENSOR"]
    assert (sensor["SKIPPED"], sensor["FAILURE"]) == (1, 10)
    assert sensor["SUCCESS"] == defaults["get_tick_retention_settings:SENSOR"]["SUCCESS"]
    assert res["get_tick_retention_settings:AUTO_MATERIALIZE"]["SUCCESS"] == 3
    assert "__exception__" in res["get_tick_retention_settings:not_a_type"]


def test_sparse_settings_take_the_defaults_and_decide_the_required_daemons():
    from compat.behaviour.worker import run_cell

    res = run_cell("spy", "configuration_sparse", "memory")["result"]
    assert res["telemetry_and_nux_without_keys"] == [True, True]
    assert res["monitoring_without_resume"] == [True, 0, False]
    assert res["monitoring_resume_unsupported"]["__exception__"]["type"] == "CheckError"
    [daemons] = res["daemons:monitoring_default_coordinator_no_asset_daemons"]
    assert "MONITORING" in daemons and "QUEUED_RUN_COORDINATOR" not in daemons and "ASSET" not in daemons


def test_storage_defaults_and_the_partitions_loader_record_what_the_base_does_without_arguments():
    from compat.behaviour.worker import run_cell

    memory = run_cell("spy", "storage_defaults_and_temp", "memory")["result"]
    sqlite = run_cell("spy", "storage_defaults_and_temp", "sqlite")["result"]
    # the constructors own a temp dir when given none, and remove it on disposal
    assert memory["local_temp:no_tempdir"] == ["DagsterInstance", True, False]
    assert memory["reindex"][0] == "Checking for reindexing..." and memory["reindex"][-1] == "Done."
    assert "__exception__" in memory["wipe_all_schedules"] and sqlite["wipe_all_schedules"] is None
    assert sqlite["compute_log_manager:from_ref"] == "LocalComputeLogManager"
    assert memory["unregistered_storage:_instance"]["__exception__"]["type"] == "DagsterInvariantViolationError"
    loader = run_cell("spy", "partitions_loader_and_requests", "memory")["result"]
    assert loader["loader:has_one"] == [True, False]
    assert loader["loader:existing"] == {"__set__": ["banana"]} and loader["loader:existing_again"] == {"__set__": ["apple"]}
    assert loader["after_requests"] == ["list", ["banana", "cherry"]]
    assert "_NamedRequest('loader_fruits')" in loader["after_requests:neither_request"]["__exception__"]["message"]

"""The subclass corpus: every class builds on the installed dagster and on dagster 1.11.4, and
its override does what the class says, checked on real dagster (no mocks).

The per-class behaviour is checked from the JSON printed by ``compat.corpus.smoke``, run once
per dagster version in its own process (both processes start together).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster
import pytest
from dagster._core.instance import DagsterInstance

from compat.corpus import CORPUS, PATTERNS, STORAGES, VIAS, corpus_config, direct_kwargs, load_class, make_instance

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO_ROOT / "compat" / "corpus"
OLD_VERSION = "1.11.4"
VERSIONS = ("installed", OLD_VERSION)


@pytest.fixture(autouse=True)
def _temp_homes(tmp_path, monkeypatch):
    """dagster reads dagster.yaml and writes telemetry under DAGSTER_HOME, and newer versions
    keep a user id under ~/.dagster: point both at tmp."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    user_home = tmp_path / "user_home"
    user_home.mkdir()
    monkeypatch.setenv("HOME", str(user_home))


# ---------------------------------------------------------------------------------------------
# the public API


def test_corpus_names_are_sorted_stable_kebab_case():
    assert list(CORPUS) == sorted(CORPUS)
    for name, target in CORPUS.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name), name
        module, _, cls = target.partition(":")
        assert module and cls, target
        if name != "base":
            assert module.startswith("compat.corpus."), target
    assert CORPUS["base"] == "dagster._core.instance:DagsterInstance"


def test_load_class_returns_real_dagster_instance_subclasses():
    assert load_class("base") is DagsterInstance
    for name in CORPUS:
        cls = load_class(name)
        assert issubclass(cls, DagsterInstance)
        if name != "base":
            assert cls is not DagsterInstance
            assert cls.__doc__ and cls.__doc__.strip(), f"{name} needs a docstring"
    with pytest.raises(KeyError):
        load_class("no-such-class")


def _patterns_in(doc: str) -> set[int]:
    """Pattern numbers a docstring claims: "Pattern 3 (and 20)", "patterns 5, 6 and 10"."""
    found: set[int] = set()
    for match in re.finditer(r"[Pp]atterns? ((?:\d+|,|\s|and|\(|\))+)", doc):
        found.update(int(n) for n in re.findall(r"\d+", match.group(1)))
    return found


def test_every_numbered_pattern_is_modelled_and_documented():
    claimed: dict[int, set[str]] = {}
    for name in CORPUS:
        if name == "base":
            continue
        for number in _patterns_in(load_class(name).__doc__ or ""):
            claimed.setdefault(number, set()).add(name)
    assert sorted(claimed) == list(range(1, 21))
    assert claimed == {number: set(names) for number, names in PATTERNS.items()}


def test_corpus_modules_import_only_stdlib_and_dagster():
    allowed_roots = set(sys.stdlib_module_names) | {"dagster", "compat"}
    for path in sorted(CORPUS_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for module in names:
                root = module.split(".")[0]
                assert root in allowed_roots, f"{path.name} imports {module}"
                if root == "compat":
                    assert module.startswith("compat.corpus"), f"{path.name} imports {module}"


def test_make_instance_rejects_bad_arguments(tmp_path):
    with pytest.raises(KeyError):
        make_instance("nope", str(tmp_path))
    with pytest.raises(ValueError):
        make_instance("base", str(tmp_path), storage="postgres")
    with pytest.raises(ValueError):
        make_instance("base", str(tmp_path), via="env")
    with pytest.raises(ValueError):
        make_instance("base", str(tmp_path / "missing"))


def test_corpus_config_is_a_copy():
    conf = corpus_config("custom-init")
    conf["config"]["deployment_name"] = "changed"
    assert corpus_config("custom-init")["config"]["deployment_name"] == "corpus-prod"


# ---------------------------------------------------------------------------------------------
# construction on the installed dagster, in this process (in-memory storages: cheap; the full
# storage x route matrix runs for both dagster versions in the smoke processes below)


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("name", list(CORPUS))
def test_constructible_on_installed_dagster(name, via, tmp_path):
    base_dir = tmp_path / "instance"
    base_dir.mkdir()
    instance = make_instance(name, str(base_dir), storage="memory", via=via)
    with instance:
        assert type(instance) is load_class(name)
        assert instance.root_directory == str(base_dir)
        # direct + memory mirrors DagsterInstance.ephemeral(); the factory always builds
        # persistent instances
        assert instance.is_ephemeral == (via == "direct")
        if via == "yaml":
            written = json.loads((base_dir / "dagster.yaml").read_text())
            if name == "base":
                assert "instance_class" not in written
            else:
                module, _, cls = CORPUS[name].partition(":")
                assert written["instance_class"] == {"module": module, "class": cls}
                for key, value in corpus_config(name)["config"].items():
                    assert written[key] == value
        else:
            assert not (base_dir / "dagster.yaml").exists()


def test_direct_kwargs_match_the_factory_keywords_of_the_installed_dagster(tmp_path):
    kwargs = direct_kwargs("base", str(tmp_path))
    assert {
        "instance_type", "local_artifact_storage", "run_storage", "event_storage",
        "schedule_storage", "compute_log_manager", "scheduler", "run_coordinator",
        "run_launcher", "settings", "secrets_loader", "defs_state_storage", "ref",
    } == set(kwargs)


# ---------------------------------------------------------------------------------------------
# behaviour, on the installed dagster and on dagster 1.11.4 (one smoke process each)


def _old_python() -> str:
    from compat.envs import parse_spec, python_for

    return python_for(parse_spec(f"dagster=={OLD_VERSION}"))


@pytest.fixture(scope="session")
def smoke_results(request, tmp_path_factory) -> dict[str, dict]:
    # only the versions this session runs: `-m "not slow"` leaves out 1.11.4 and its environment
    wanted = {item.callspec.params["smoke"] for item in request.session.items
              if "smoke" in getattr(getattr(item, "callspec", None), "params", {})}
    pythons = {version: python for version, python in (("installed", sys.executable), (OLD_VERSION, None))
               if version in wanted}
    if OLD_VERSION in pythons:
        pythons[OLD_VERSION] = _old_python()
    procs = {}
    for version, python in pythons.items():
        home = tmp_path_factory.mktemp(f"smoke-home-{version}")
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO_ROOT)
        env["DAGSTER_HOME"] = str(home)
        env["HOME"] = str(home)
        procs[version] = subprocess.Popen(
            [python, "-m", "compat.corpus.smoke"],
            cwd=str(home), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    results = {}
    for version, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"smoke under {version} failed:\n{err[-4000:]}"
        results[version] = json.loads(out)
    return results


# the old version builds a dagster 1.11.4 environment: slow
@pytest.fixture(params=[v if v == "installed" else pytest.param(v, marks=pytest.mark.slow) for v in VERSIONS])
def smoke(request, smoke_results):
    result = smoke_results[request.param]
    expected_version = dagster.__version__ if request.param == "installed" else OLD_VERSION
    assert result["dagster_version"] == expected_version
    return _Smoke(result["classes"], result["probes"], expected_version)


class _Smoke:
    def __init__(self, classes: dict, probes: dict, version: str):
        self.classes = classes
        self.probes = probes
        self.version = version
        self.old = version == OLD_VERSION

    def probes_ok(self, probe: str):
        outcome = self.probes[probe]
        assert outcome["ok"], f"probe {probe} on dagster {self.version}: {outcome['error']}"
        return outcome["value"]

    def ok(self, name: str, check: str):
        outcome = self.classes[name][check]
        assert outcome["ok"], f"{name}/{check} on dagster {self.version}: {outcome['error']}"
        return outcome["value"]

    def error(self, name: str, check: str) -> str:
        outcome = self.classes[name][check]
        assert not outcome["ok"], f"{name}/{check} unexpectedly succeeded: {outcome['value']}"
        return outcome["error"]


def test_smoke_covers_every_class(smoke):
    assert sorted(smoke.classes) == sorted(CORPUS)


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_class_constructible_directly_and_via_yaml(smoke, name):
    expected = CORPUS[name].partition(":")[2]
    for storage in STORAGES:
        for via in VIAS:
            assert smoke.ok(name, f"construct:{storage}:{via}") == expected


@pytest.mark.parametrize("name", list(CORPUS))
def test_protocol_side_effects_keep_classes_concrete(smoke, name):
    # pattern 19: the Protocol base plants _is_protocol/__subclasshook__ in every subclass
    assert smoke.ok(name, "protocol") == {
        "abstract": False,
        "has_is_protocol": True,
        "has_subclasshook": True,
        "metaclass_is_abcmeta": True,
    }


def test_base_reference_values(smoke):
    defaults = smoke.ok("base", "defaults")
    assert defaults["telemetry_enabled"] is True
    assert defaults["run_retries_enabled"] is False
    assert defaults["should_start_background_run_thread"] is False
    assert defaults["has_defs_state_storage_member"] is (not smoke.old)
    names = smoke.ok("base", "instance_names")
    assert "_settings" in names["after_init"] and "_run_storage" in names["after_init"]
    # dagster >= 1.11.8 assigns _defs_state_storage in __init__, and 1.13 also _exit_stack in
    # __enter__: names a subclass could no longer use for its own state
    assert ("_defs_state_storage" in names["after_init"]) is (not smoke.old)
    assert set(names["after_enter"]) - set(names["after_init"]) == (
        set() if smoke.old else {"_exit_stack"}
    )


def test_telemetry_off(smoke):
    assert smoke.ok("telemetry-off", "telemetry") == {
        "telemetry_enabled": False,
        "base_telemetry_enabled": True,
    }


def test_run_retries_forbidden_while_enabled_still_reads_settings(smoke):
    props = smoke.ok("run-retries-forbidden", "properties")
    assert props["run_retries_enabled"] is True
    assert props["max_retries"]["error"].startswith("NotImplementedError")
    assert props["retry_on_asset_or_op_failure"]["error"].startswith("NotImplementedError")
    # the base retry decision in run-failure handling reaches the forbidden property: the
    # failure is stored, then the exception escapes to the reporter and no retry tag is written
    failure = smoke.ok("run-retries-forbidden", "run_failure")
    assert failure["report_run_failed"]["error"].startswith("NotImplementedError")
    assert failure["status"] == "FAILURE"
    assert failure["tags"] == {}


def test_no_daemons(smoke):
    daemons = smoke.ok("no-daemons", "daemons")
    assert daemons["required"] == []
    assert daemons["statuses"] == []  # get_daemon_statuses() dispatches through the override
    assert "SENSOR" in daemons["base_required"]  # super() lands on the (mixin) implementation


def test_no_defs_state(smoke):
    assert smoke.ok("no-defs-state", "defs_state_storage") == {"defs_state_storage": None}


def test_protected_reader(smoke):
    value = smoke.ok("protected-reader", "protected")
    assert value["run_storage_is_slot"] is True
    assert value["run_monitoring_settings"] == {}
    assert value["summary"]["instance_type"] == "PERSISTENT"
    assert value["summary"]["has_ref"] is True
    assert value["summary"]["local_artifact_base_dir"] is True
    # the defs_state_storage override exists only where the base has the member
    assert value["base_has_defs_state_storage"] is (not smoke.old)
    assert value["defs_state_override_defined"] is (not smoke.old)
    assert value["defs_state_storage"] == (None if smoke.old else "UPathDefsStateStorage")


@pytest.mark.parametrize("via", VIAS)
def test_custom_init(smoke, via):
    value = smoke.ok("custom-init", via)
    assert value["cloud_config"] == {
        "deployment_name": "corpus-prod",
        "agent_token": None,
        "agent_labels": ["corpus", "local"],
        "deployment_tags": {"team": "compat"},
        "request_timeout": 5,
    }
    assert value["legacy_api_url_dropped"] is True
    forwarded = set(value["forwarded_kwarg_names"])
    assert {"instance_type", "run_storage", "event_storage", "settings", "ref"} <= forwarded
    # the factory passes defs_state_storage only on dagster >= 1.11.8; **kwargs forwards it
    assert ("defs_state_storage" in forwarded) is (not smoke.old)


def test_custom_init_required_key(smoke):
    assert smoke.error("custom-init", "missing_required_key").startswith("DagsterInvalidConfigError")


def test_dispose_releases_own_resources_from_exit(smoke):
    value = smoke.ok("disposing", "dispose")
    assert value["value"] == "v"
    assert value["dispose_calls"] == 1
    assert value["resources_released"] is True
    assert "closed database" in value["use_after_dispose"]["error"]


def test_get_narrows_to_the_subclass(smoke):
    assert smoke.ok("get-narrowing", "get_subclass") == "GetNarrowingInstance"
    assert "expected a GetNarrowingInstance" in smoke.error("get-narrowing", "get_base_rejected")


def test_config_defaults_swap_components(smoke):
    assert smoke.ok("config-defaults", "defaults") == {
        "compute_log_manager": "NoOpComputeLogManager",
        "secrets_loader": "DictSecretsLoader",
        "storage_dir_used": True,
        "default_history_dir_used": False,
        "secret_injected": "from-config-defaults",
        "defs_state_in_storage_dir": None if smoke.old else True,
    }


def test_own_launcher_reached_from_base_init_and_launch_paths(smoke):
    value = smoke.ok("own-launcher", "launcher")
    assert value["launcher"] == "LocalStateRunLauncher"
    assert value["created_during_base_init"] is True  # pattern 10
    assert value["run_monitoring_enabled"] is True
    assert value["launch_run"] == {"ok": True, "value": "STARTING"}
    assert value["launched"] == ["corpus_job"]
    assert value["resume_run"]["ok"] is True
    assert value["resumed"] == [1]
    assert value["launcher_disposed"] is True


def test_background_thread_from_own_config(smoke):
    assert smoke.ok("background-thread", "should_start_background_run_thread") is True


def test_chain(smoke):
    assert smoke.ok("chain-intermediate", "unknown_kwargs") == {
        "type": "ChainIntermediateInstance",
        "telemetry_enabled": False,
        "required_daemon_types": [],
    }
    assert smoke.ok("chain-leaf", "chain") == {
        "telemetry_enabled": False,
        "daemons_match_base": True,
        "daemons_nonempty": True,
    }


@pytest.mark.parametrize("storage", STORAGES)
def test_event_filter(smoke, storage):
    assert smoke.ok("event-filter", f"filter:{storage}") == {
        "stored": ["info-handled", "warning-stored"],
        "dropped": ["debug-handled", "debug-stored"],
    }


def test_create_run_adds_tags(smoke):
    value = smoke.ok("create-run-tags", "tags")
    tagged = {"caller": "yes", "corpus/origin": "create-run-tags"}
    assert value["create_run"] == tagged
    if smoke.old:
        # 1.11.4: create_run_for_job (and so execute_in_process) dispatch through self.create_run
        assert value["create_run_for_job"] == tagged
        assert value["execute_in_process"] == tagged
        assert value["calls"] == [1, 2, 3]
    else:
        # newer dagster: run creation moved into an internal run domain whose create_run_for_job
        # calls the domain's own create_run, so the subclass override is silently skipped
        assert value["create_run_for_job"] == {"caller": "yes"}
        assert value["execute_in_process"] == {"caller": "yes"}
        assert value["calls"] == [1, 1, 1]


def test_settings_override(smoke):
    assert smoke.ok("settings-override", "settings") == {
        "sensor_settings": {"use_threads": True, "num_workers": 3},
        "run_monitoring_enabled": True,
        "poll_interval": 7,
        "first_read": "run_monitoring",  # base __init__ reads settings before the subclass body
        "monitoring_daemon_required": True,
    }


def test_ref_round_trip(smoke):
    assert smoke.ok("ref-roundtrip", "yaml") == {
        "copy_type": "RefRoundTripInstance",
        "copy_run_retries_enabled": True,
        "copy_label": "primary",
        "original_run_retries_enabled": False,
        "relabeled_type": "RefRoundTripInstance",
        "relabeled_label": "secondary",
    }
    assert smoke.ok("ref-roundtrip", "direct:sqlite") == ["RefRoundTripInstance", "direct-copy"]
    assert "ineligible DagsterInstance" in smoke.error("ref-roundtrip", "direct:memory")


def test_private_state_names_stay_private(smoke):
    assert smoke.ok("private-state", "private") == {
        "attribute_clashes": [],
        "member_clashes": [],
        "session_open_inside": True,
        "session_open_after": False,
        "looked_up": "prod",
        "state_size": 1,
    }


def test_self_registering_components(smoke):
    assert smoke.ok("self-registering", "components") == {
        "secrets_registered": True,
        "launcher_registered": True,
        "injected": "s3cr3t",
        "released": [True, True],
    }


def test_cloud_like_composite(smoke):
    props = smoke.ok("cloud-like", "properties")
    assert props["max_retries"]["error"].startswith("NotImplementedError")
    del props["max_retries"]
    assert props == {
        "telemetry_enabled": False,
        "defs_state_storage": None,
        "run_retries_enabled": True,
        "required_daemon_types": [],
        "deployment_name": "prod",
        "compute_log_manager": "NoOpComputeLogManager",
        "secrets_loader": "DictSecretsLoader",
        "session_open": True,
        "session_open_after_exit": False,
    }
    assert smoke.ok("cloud-like", "get") == ["CloudLikeInstance", "prod"]
    assert smoke.ok("cloud-like", "for_deployment") == ["CloudLikeInstance", "staging", "prod"]


def test_cloud_like_agent_composite(smoke):
    assert smoke.ok("cloud-like-agent", "agent") == {
        "launcher": "LocalStateRunLauncher",
        "created_during_base_init": True,
        "launch_run": {"ok": True, "value": "STARTING"},
        "launched": ["corpus_job"],
        "daemons_match_base": True,
        "monitoring_daemon_required": True,
        # reads the base's protected slot where it exists; else the intermediate's None
        "defs_state_storage": None if smoke.old else "UPathDefsStateStorage",
        "should_start_background_run_thread": True,
        "telemetry_enabled": False,
        "agent_queues": ["default", "gpu"],
        "user_code_launcher_registered": True,
        "released": [True, True, True],
    }
    assert smoke.ok("cloud-like-agent", "for_deployment") == [
        "CloudLikeAgentInstance", "staging", ["default", "gpu"],
    ]


# ---------------------------------------------------------------------------------------------
# probes: base behaviour subclasses rely on, measured with throwaway subclasses


def test_probe_members_base_init_dispatches_through_self(smoke):
    touched = smoke.probes_ok("init_dispatch")
    common = ["run_monitoring_settings", "get_settings", "run_monitoring_enabled"]
    # newer dagster moved the run-monitoring set-up into an overridable helper method
    prefix = [] if smoke.old else ["_initialize_run_monitoring"]
    assert touched["default"] == prefix + common
    assert touched["run_monitoring_with_resume"] == prefix + common + [
        "run_monitoring_max_resume_run_attempts",
        "run_launcher",
    ]


def test_probe_enter_override_without_super(smoke):
    outcome = smoke.probes["enter_without_super"]
    if smoke.old:
        assert outcome == {"ok": True, "value": "ok"}
    else:
        # newer __exit__ closes self._exit_stack, which only the base __enter__ creates
        assert outcome["ok"] is False
        assert outcome["error"].startswith("AttributeError") and "_exit_stack" in outcome["error"]


def test_probe_subclass_owned_exit_stack(smoke):
    # newer __enter__ assigns self._exit_stack, replacing a subclass's own stack of that name
    assert smoke.probes_ok("own_exit_stack") == {"subclass_cleanup_ran": smoke.old}


def test_exit_stack_owner_release_depends_on_base_enter(smoke):
    # the agent pattern: the subclass keeps its resources in self._exit_stack
    assert smoke.ok("exit-stack-owner", "released:dispose_without_with") is True
    assert smoke.ok("exit-stack-owner", "released:entered_inside_with") is True
    # newer base __enter__ replaces self._exit_stack: what the subclass entered before the
    # `with` is never released by dispose (it closes the base's stack instead)
    assert smoke.ok("exit-stack-owner", "released:entered_before_with") is smoke.old


def test_probe_run_launcher_reading_state_set_after_super(smoke):
    # the real agent's run_launcher reads state set after super().__init__(): base __init__
    # reaches it (and crashes) only when run monitoring may resume runs
    probe = smoke.probes["launcher_state_set_after_super"]
    assert probe["default_settings"] == {"ok": True, "value": "constructed"}
    assert probe["run_monitoring_with_resume"]["ok"] is False
    assert probe["run_monitoring_with_resume"]["error"].startswith("AttributeError")
    assert "_launcher_source" in probe["run_monitoring_with_resume"]["error"]


@pytest.mark.parametrize("storage", STORAGES)
def test_forwarding_storages_note_each_call_with_its_arguments(smoke, storage):
    value = smoke.ok("forwarding-storages", f"forwarded:{storage}")
    assert value["storages"] == ["ForwardingRunStorage", "ForwardingEventLogStorage"]
    assert value["calls"] == [["run_storage", "get_runs", 5, []]] and value["limit"] == 3
    assert value["compute_log_manager"] == "ForwardingComputeLogManager"
    # the call gets the real key; what is noted names the random file key by its rank
    assert value["log_key"] == ["run", "compute_logs", "qwertyui"]
    assert value["log_key_noted"] == ["compute_log_manager", "build_log_key_for_run", ["run", "<file-key-1>"]]

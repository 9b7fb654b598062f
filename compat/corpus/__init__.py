"""The subclass corpus: dagster-cloud-style override subclasses of ``DagsterInstance``.

Each class models one or more real override patterns (see each class docstring). Everything
here imports only the stdlib and dagster, and works unchanged on dagster 1.11.4 and 1.13.x,
because the behavioural suite also imports it inside workers running other dagster versions.

Public API:

- ``CORPUS``: short stable name -> ``"module:Class"`` (``"base"`` is the unmodified class).
- ``load_class(name)``: the class behind a name.
- ``PATTERNS``: pattern number -> the names of the classes that model it.
- ``corpus_config(name)``: the settings and subclass-specific config each class is built with.
- ``make_instance(name, base_dir, storage=..., via=...)``: a fresh instance rooted in
  ``base_dir``.
- ``direct_kwargs(name, base_dir, storage=...)``: the keyword arguments ``make_instance(...,
  via="direct")`` passes to the class, for callers that want to add or drop some.
- ``write_instance_yaml(name, base_dir, storage=...)``: the ``dagster.yaml`` the yaml route uses.

``python -m compat.corpus.smoke [NAME ...]`` exercises every class's overrides under whatever
dagster runs it and prints the outcomes as JSON (see ``compat.corpus.smoke``). The classes
build and run on every supported version; where an override stops being reached, or state
stops being released, the smoke output shows it.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagster._core.instance import DagsterInstance

CORPUS: dict[str, str] = dict(
    sorted(
        {
            "base": "dagster._core.instance:DagsterInstance",
            "background-thread": "compat.corpus.settings:BackgroundThreadInstance",
            "chain-intermediate": "compat.corpus.chain:ChainIntermediateInstance",
            "chain-leaf": "compat.corpus.chain:ChainLeafInstance",
            "cloud-like": "compat.corpus.cloud:CloudLikeInstance",
            "cloud-like-agent": "compat.corpus.cloud:CloudLikeAgentInstance",
            "config-defaults": "compat.corpus.lifecycle:ConfigDefaultsInstance",
            "create-run-tags": "compat.corpus.events:CreateRunTagsInstance",
            "custom-init": "compat.corpus.lifecycle:CustomInitInstance",
            "disposing": "compat.corpus.lifecycle:DisposingInstance",
            "event-filter": "compat.corpus.events:EventFilterInstance",
            "exit-stack-owner": "compat.corpus.private:ExitStackOwnerInstance",
            "forwarding-storages": "compat.corpus.forwarding:ForwardingStoragesInstance",
            "get-narrowing": "compat.corpus.lifecycle:GetNarrowingInstance",
            "no-daemons": "compat.corpus.settings:NoDaemonsInstance",
            "no-defs-state": "compat.corpus.storage_overrides:NoDefsStateInstance",
            "own-launcher": "compat.corpus.launcher:OwnLauncherInstance",
            "private-state": "compat.corpus.private:PrivateStateInstance",
            "protected-reader": "compat.corpus.storage_overrides:ProtectedReaderInstance",
            "ref-roundtrip": "compat.corpus.ref_api:RefRoundTripInstance",
            "run-retries-forbidden": "compat.corpus.settings:RunRetriesForbiddenInstance",
            "self-registering": "compat.corpus.launcher:SelfRegisteringInstance",
            "settings-override": "compat.corpus.settings:SettingsOverrideInstance",
            "telemetry-off": "compat.corpus.settings:TelemetryOffInstance",
        }.items()
    )
)

# Per class: instance settings (top-level dagster.yaml keys the base reads through
# ``get_settings``) and the subclass's own config keys (its ``config_schema()``), which the
# factory passes to the constructor as keyword arguments.
_CONFIG: dict[str, dict[str, dict[str, Any]]] = {
    "own-launcher": {
        # run monitoring with resume attempts makes base __init__ read self.run_launcher
        "settings": {"run_monitoring": {"enabled": True, "max_resume_run_attempts": 2}},
    },
    "run-retries-forbidden": {
        "settings": {"run_retries": {"enabled": True}},
    },
    "custom-init": {
        "config": {
            "deployment_name": "corpus-prod",
            "agent_labels": ["corpus", "local"],
            "deployment_tags": {"team": "compat"},
            "request_timeout": 5,
            "legacy_api_url": "http://api.invalid",
        },
    },
    "background-thread": {"config": {"cancellation_thread_enabled": True}},
    "cloud-like": {
        "settings": {"run_retries": {"enabled": True}},
        "config": {
            "deployment_name": "prod",
            "agent_labels": ["corpus"],
            "deployment_settings": {"tier": "local"},
        },
    },
    "cloud-like-agent": {
        "settings": {"run_monitoring": {"enabled": True, "max_resume_run_attempts": 1}},
        "config": {
            "deployment_name": "prod",
            "agent_queues": ["default", "gpu"],
            "cancellation_thread_enabled": True,
        },
    },
    "settings-override": {
        "config": {
            "settings_overrides": {
                "sensors": {"use_threads": True, "num_workers": 3},
                "run_monitoring": {
                    "enabled": True,
                    "max_resume_run_attempts": 0,
                    "poll_interval_seconds": 7,
                },
            }
        },
    },
    "event-filter": {"config": {"min_stored_log_level": 20}},
    "create-run-tags": {"config": {"extra_run_tags": {"corpus/origin": "create-run-tags"}}},
    "self-registering": {"config": {"location_secrets": {"corpus_loc": {"CORPUS_SECRET": "s3cr3t"}}}},
    "ref-roundtrip": {"config": {"label": "primary"}},
}

# Which corpus classes model each numbered pattern of the subclass-patterns notes.
PATTERNS: dict[int, tuple[str, ...]] = {
    1: ("telemetry-off", "chain-intermediate", "cloud-like"),
    2: ("no-defs-state", "cloud-like"),
    3: ("run-retries-forbidden", "cloud-like"),
    4: ("no-daemons", "chain-intermediate", "cloud-like"),
    5: ("own-launcher", "cloud-like-agent"),
    6: ("protected-reader", "cloud-like-agent"),
    7: ("chain-leaf", "cloud-like-agent"),
    8: ("background-thread", "cloud-like-agent"),
    9: ("custom-init", "cloud-like"),
    10: ("own-launcher", "settings-override", "cloud-like-agent"),
    11: ("private-state", "no-defs-state", "exit-stack-owner"),
    12: ("disposing", "cloud-like", "exit-stack-owner"),
    13: ("get-narrowing", "cloud-like"),
    14: ("custom-init", "cloud-like", "cloud-like-agent"),
    15: ("config-defaults", "cloud-like"),
    16: ("ref-roundtrip", "cloud-like"),
    17: ("self-registering", "cloud-like-agent"),
    18: ("chain-intermediate",),
    19: ("chain-intermediate",),
    20: (
        "telemetry-off", "run-retries-forbidden", "no-daemons", "event-filter", "create-run-tags",
        "cloud-like",
    ),
}

STORAGES = ("sqlite", "memory")
VIAS = ("direct", "yaml")


def _check_name(name: str) -> str:
    if name not in CORPUS:
        raise KeyError(f"unknown corpus class {name!r}; known: {', '.join(CORPUS)}")
    return name


def load_class(name: str) -> type:
    """The class registered under ``name``."""
    module_name, _, class_name = CORPUS[_check_name(name)].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def corpus_config(name: str) -> dict[str, dict[str, Any]]:
    """``{"settings": {...}, "config": {...}}`` that ``make_instance`` builds ``name`` with."""
    entry = _CONFIG.get(_check_name(name), {})
    return {
        "settings": copy.deepcopy(entry.get("settings", {})),
        "config": copy.deepcopy(entry.get("config", {})),
    }


def _instance_yaml(name: str, storage: str) -> dict[str, Any]:
    """The dagster.yaml content for ``name`` (as a dict; written as JSON, which YAML accepts)."""
    conf = corpus_config(name)
    content: dict[str, Any] = {}
    if name != "base":
        module_name, _, class_name = CORPUS[name].partition(":")
        content["instance_class"] = {"module": module_name, "class": class_name}
    content.update(conf["settings"])
    content.update(conf["config"])
    if storage == "memory":
        content["storage"] = {
            "custom": {"module": "compat.corpus.components", "class": "InMemoryStorage", "config": {}}
        }
        content["compute_logs"] = {
            "module": "dagster._core.storage.noop_compute_log_manager",
            "class": "NoOpComputeLogManager",
            "config": {},
        }
        content["run_coordinator"] = {
            "module": "dagster._core.run_coordinator",
            "class": "DefaultRunCoordinator",
            "config": {},
        }
        content["run_launcher"] = {
            "module": "dagster._core.launcher.sync_in_memory_run_launcher",
            "class": "SyncInMemoryRunLauncher",
            "config": {},
        }
    return content


def _check_args(name: str, base_dir: str, storage: str, via: str) -> None:
    _check_name(name)
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {STORAGES}, got {storage!r}")
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}, got {via!r}")
    if not os.path.isdir(base_dir):
        raise ValueError(f"base_dir {base_dir!r} is not a directory")


def direct_kwargs(name: str, base_dir: str, *, storage: str = "sqlite") -> dict[str, Any]:
    """Keyword arguments for calling the class directly, the way dagster's factory calls it.

    ``sqlite``: a persistent instance whose components come (eagerly) from an ``InstanceRef``
    built for ``base_dir`` with the class's config as overrides (no file is written); the ref
    is passed too, so the instance can cross process boundaries. ``memory``: the in-memory
    components ``DagsterInstance.ephemeral()`` uses, no ref.
    """
    from dagster._core.instance import InstanceRef, InstanceType

    _check_args(name, base_dir, storage, "direct")
    conf = corpus_config(name)
    if storage == "memory":
        from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
        from dagster._core.run_coordinator import DefaultRunCoordinator
        from dagster._core.storage.event_log import InMemoryEventLogStorage
        from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
        from dagster._core.storage.root import LocalArtifactStorage
        from dagster._core.storage.runs import InMemoryRunStorage

        kwargs: dict[str, Any] = dict(
            instance_type=InstanceType.EPHEMERAL,
            local_artifact_storage=LocalArtifactStorage(base_dir),
            run_storage=InMemoryRunStorage(),
            event_storage=InMemoryEventLogStorage(),
            compute_log_manager=NoOpComputeLogManager(),
            run_coordinator=DefaultRunCoordinator(),
            run_launcher=SyncInMemoryRunLauncher(),
            settings=conf["settings"],
        )
    else:
        ref = InstanceRef.from_dir(base_dir, overrides=_instance_yaml(name, storage))
        unified = ref.storage
        kwargs = dict(
            instance_type=InstanceType.PERSISTENT,
            local_artifact_storage=ref.local_artifact_storage,
            run_storage=unified.run_storage if unified else ref.run_storage,
            event_storage=unified.event_log_storage if unified else ref.event_storage,
            schedule_storage=unified.schedule_storage if unified else ref.schedule_storage,
            compute_log_manager=ref.compute_log_manager,
            scheduler=ref.scheduler,
            run_coordinator=ref.run_coordinator,
            run_launcher=ref.run_launcher,
            settings=ref.settings,
            secrets_loader=ref.secrets_loader,
            ref=ref,
        )
        # dagster >= 1.11.8 has a defs-state storage component and its factory passes it
        if "defs_state_storage_data" in InstanceRef._fields:
            kwargs["defs_state_storage"] = ref.defs_state_storage
    kwargs.update(conf["config"])
    return kwargs


def make_instance(
    name: str, base_dir: str, *, storage: str = "sqlite", via: str = "direct"
) -> "DagsterInstance":
    """Build a fresh instance of corpus class ``name`` rooted in ``base_dir``.

    ``storage``: ``"sqlite"`` (sqlite storages in ``base_dir``) or ``"memory"`` (in-memory
    run and event-log storages, no compute logs). ``via``: ``"direct"`` calls the class with
    keyword arguments (see ``direct_kwargs``); ``"yaml"`` writes ``base_dir/dagster.yaml``
    naming the class under ``instance_class:`` plus its own config keys, then goes through
    ``InstanceRef.from_dir`` and ``DagsterInstance.from_ref``. The caller owns ``base_dir``
    and should dispose the instance (or use it as a context manager).
    """
    from dagster._core.instance import DagsterInstance, InstanceRef

    _check_args(name, base_dir, storage, via)
    if via == "direct":
        return load_class(name)(**direct_kwargs(name, base_dir, storage=storage))
    write_instance_yaml(name, base_dir, storage=storage)
    return DagsterInstance.from_ref(InstanceRef.from_dir(base_dir))


def write_instance_yaml(name: str, base_dir: str, *, storage: str = "sqlite") -> str:
    """Write the ``dagster.yaml`` that ``make_instance(..., via="yaml")`` uses; return its path."""
    _check_args(name, base_dir, storage, "yaml")
    path = os.path.join(base_dir, "dagster.yaml")
    with open(path, "w") as fh:
        json.dump(_instance_yaml(name, storage), fh, indent=2, sort_keys=True)
        fh.write("\n")
    return path


__all__ = [
    "CORPUS",
    "PATTERNS",
    "STORAGES",
    "VIAS",
    "corpus_config",
    "direct_kwargs",
    "load_class",
    "make_instance",
    "write_instance_yaml",
]

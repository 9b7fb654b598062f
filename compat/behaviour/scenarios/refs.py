"""The instance ref a dagster.yaml gives: which class each storage and component is built from,
and the exact YAML text of its config.

A subclass that rebuilds itself from its ref (``get_ref()``, ``_replace``, ``from_ref``) and a
custom storage configured from ``config_yaml`` see that text, and the storages dagster's own
tests never build here (postgres, mysql: their packages are not needed to make the ref) are
where a changed YAML style, key order or class name would otherwise go unseen.
"""

from __future__ import annotations

from typing import Any

from compat.behaviour.scenarios.common import _fresh_dir
from compat.behaviour.scenarios.registry import Ctx, scenario

_SERVER = {"username": "compat", "password": "secret", "hostname": "db.invalid", "db_name": "dagster"}

# dagster.yaml documents, "<base>" standing for a directory of the cell's own
REF_DOCUMENTS: dict[str, dict[str, Any]] = {
    "postgres": {"storage": {"postgres": {"postgres_db": {**_SERVER, "port": 5433}}}},
    "mysql": {"storage": {"mysql": {"mysql_db": {**_SERVER, "port": 3307}}}},
    "sqlite": {"storage": {"sqlite": {"base_dir": "<base>"}}},
    "components": {
        "run_storage": {"module": "dagster._core.storage.runs", "class": "SqliteRunStorage",
                        "config": {"base_dir": "<base>"}},
        "compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                         "class": "NoOpComputeLogManager", "config": {}},
        "run_launcher": {"module": "dagster", "class": "DefaultRunLauncher", "config": {}},
    },
}

# the fields of InstanceRef in every version the harness drives
REF_FIELDS = ("storage_data", "run_storage_data", "event_storage_data", "schedule_storage_data",
              "compute_logs_data", "run_launcher_data")


# the documents whose storages can be built here (no database server, no extra package)
_BUILDABLE = ("sqlite", "components")


def _built(ref) -> dict[str, Any]:
    """The class of each storage the ref's properties build (None where the ref names none)."""
    out: dict[str, Any] = {}
    for name in ("storage", "run_storage", "event_storage", "schedule_storage"):
        made = getattr(ref, name)
        out[name] = None if made is None else type(made).__name__
        if made is not None and hasattr(made, "dispose"):
            made.dispose()
    return out


@scenario("configuration_refs", "configuration", storages=("sqlite",))
def configuration_refs(instance, ctx: Ctx):
    """``InstanceRef.from_dir`` of dagster.yaml documents naming each kind of storage, and the
    instance's own ref: per storage and component, its module, class and config text."""
    import os

    import yaml
    from dagster._core.instance.ref import InstanceRef

    def described(ref) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in REF_FIELDS:
            data = getattr(ref, name)
            out[name] = None if data is None else [data.module_name, data.class_name, data.config_yaml]
        return out

    for name, document in REF_DOCUMENTS.items():
        home = _fresh_dir(ctx.tmpdir, f"ref-{name}")
        text = yaml.safe_dump(document, sort_keys=True).replace("<base>", os.path.join(home, "base"))
        with open(os.path.join(home, "dagster.yaml"), "w", encoding="utf-8") as fh:
            fh.write(text)
        ctx.step(f"from_dir:{name}", lambda h=home: described(InstanceRef.from_dir(h)))
        if name in _BUILDABLE:
            ctx.step(f"built:{name}", lambda h=home: _built(InstanceRef.from_dir(h)))
    ctx.step("get_ref", lambda: described(instance.get_ref()))
    return ctx.results

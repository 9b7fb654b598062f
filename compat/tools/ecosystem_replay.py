"""The ecosystem check's behaviour layer: downstream overrides replayed on both dagsters.

A pair is replayed when its base has a contract the harness can run: dagster-duckdb's three
classes (`DuckDbClient` under `DbIOManager`, `DuckDBIOManager` as a
`ConfigurableIOManagerFactory`, `DuckDBResource` as a `ConfigurableResource`), on DuckDB in a temp
dir; and the run, event-log and schedule storages of dagster-postgres and dagster-mysql, on a
PostgreSQL or MariaDB server the harness starts for the run (:mod:`compat.servers`: started once
for both sides, only when a side's traces are not cached), driven through the instance's own
scenarios that use each storage. The other packages' bases need dagster-cloud's API, Kubernetes,
Docker, Celery or a cloud store.

The package's *old* release runs on both sides (that is what its users have installed when they
upgrade dagster): the unpacked wheel and the runtime it needs (pinned, so only dagster differs)
go on the worker's path beside the side's own interpreter, so nothing is installed into an
environment the user owns. Traces have the instance traces' shape and are compared by the same
code (:func:`compat.behaviour.replay.compare`); they are cached per side, wheel and worker code.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import StrictStr

from compat import downstream, envs, servers, tempdirs
from compat.behaviour.replay import compare
from compat.causes import Cause
from compat.channel import PROJECT_ROOT, WorkerProcess
from compat.model import jsonio, schemas
from compat.model.errors import CompatError
from compat.model.findings import Finding
from compat.sides import Side
from compat import witness as witness_mod

REPLAY_SCHEMA = "compat.ecosystem-replay"
TIMEOUT = 300.0  # seconds for one cell (a few materializations)


@dataclass(frozen=True)
class Cell:
    subclass: str  # dotted, as in the pairs
    base: str  # "module:Class"
    scenario: str  # a scenario of compat.tools.downstream_worker, or with `server` one of the instance's
    server: str | None = None  # the database server the cell runs on (compat.servers), if any

    @property
    def spied(self) -> str:  # the worker's "module:Class" spelling
        module, _, name = self.subclass.rpartition(".")
        return f"{module}:{name}"


@dataclass(frozen=True)
class Storages:
    """A package's run, event-log and schedule storages ("module:Class" by the instance's
    attribute for each), the config key that takes the server's URL, and the server."""

    server: str
    config_key: str
    classes: dict[str, str]


RUN_BASE = "dagster._core.storage.runs.sql_run_storage:SqlRunStorage"
EVENT_LOG_BASE = "dagster._core.storage.event_log.sql_event_log:SqlEventLogStorage"
SCHEDULE_BASE = "dagster._core.storage.schedules.sql_schedule_storage:SqlScheduleStorage"
# the instance's scenarios that exercise each storage (compat.behaviour.scenarios); every one runs
# on the persistent (sqlite) instance too, where the gate records it
STORAGE_SCENARIOS = {
    RUN_BASE: ("runs_lifecycle", "runs_status_events", "runs_records_and_stats", "backfills_crud", "storage_wipe"),
    EVENT_LOG_BASE: ("assets_materializations", "assets_observations", "events_records_queries",
                     "partitions_dynamic", "partitions_materialized"),
    SCHEDULE_BASE: ("schedules_instigator_state", "sensors_instigator_state"),
}
STORAGES: dict[str, Storages] = {
    "dagster-postgres": Storages(servers.POSTGRES, "postgres_url", {
        "run_storage": "dagster_postgres.run_storage:PostgresRunStorage",
        "event_log_storage": "dagster_postgres.event_log:PostgresEventLogStorage",
        "schedule_storage": "dagster_postgres.schedule_storage:PostgresScheduleStorage"}),
    "dagster-mysql": Storages(servers.MARIADB, "mysql_url", {
        "run_storage": "dagster_mysql.run_storage:MySQLRunStorage",
        "event_log_storage": "dagster_mysql.event_log:MySQLEventLogStorage",
        "schedule_storage": "dagster_mysql.schedule_storage:MySQLScheduleStorage"}),
}


def _storage_cells(package: str, classes: dict[str, str]) -> tuple[Cell, ...]:
    server = STORAGES[package].server
    return tuple(Cell(subclass, base, scenario, server) for base, subclass in classes.items()
                 for scenario in STORAGE_SCENARIOS[base])


# per package: the runtime its old release needs (pinned, the same on both sides), and its cells
REPLAYED: dict[str, tuple[tuple[str, ...], tuple[Cell, ...]]] = {
    "dagster-duckdb": (("duckdb==2.0.1",), (
        Cell("dagster_duckdb.io_manager.DuckDbClient", "dagster._core.storage.db_io_manager:DbClient", "db-io-manager"),
        Cell("dagster_duckdb.io_manager.DuckDBIOManager",
             "dagster._config.pythonic_config.io_manager:ConfigurableIOManagerFactory", "db-io-manager"),
        Cell("dagster_duckdb.resource.DuckDBResource", "dagster._config.pythonic_config.resource:ConfigurableResource",
             "duckdb-resource"),
    )),
    "dagster-postgres": (("psycopg2-binary==2.9.10",), _storage_cells("dagster-postgres", {
        RUN_BASE: "dagster_postgres.run_storage.run_storage.PostgresRunStorage",
        EVENT_LOG_BASE: "dagster_postgres.event_log.event_log.PostgresEventLogStorage",
        SCHEDULE_BASE: "dagster_postgres.schedule_storage.schedule_storage.PostgresScheduleStorage"})),
    "dagster-mysql": (("mysql-connector-python==9.4.0",), _storage_cells("dagster-mysql", {
        RUN_BASE: "dagster_mysql.run_storage.run_storage.MySQLRunStorage",
        EVENT_LOG_BASE: "dagster_mysql.event_log.event_log.MySQLEventLogStorage",
        SCHEDULE_BASE: "dagster_mysql.schedule_storage.schedule_storage.MySQLScheduleStorage"})),
}
WORKER_CODE = ("tools/downstream_worker.py", "worker/spy.py", "model/trace.py", "channel.py",
               "worker/speedups.py")
WORKER_PACKAGES = ("behaviour/scenarios",)  # every module of these counts too


class ReplayFile(schemas._Open):
    package: StrictStr
    version: StrictStr
    sha256: StrictStr
    traces: list[schemas.TraceFile]


def _code_digest() -> str:
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    files = [*WORKER_CODE, *(p.relative_to(root).as_posix() for d in WORKER_PACKAGES
                             for p in sorted((root / d).glob("*.py")))]
    for rel in files:
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes())
    return h.hexdigest()


def _cache_tag(python: str) -> str:
    proc = tempdirs.run([python, "-c", "import sys, sysconfig; print(sys.implementation.cache_tag, sysconfig.get_platform())"],
                        capture_output=True, text=True, timeout=envs.probe_timeout())
    if proc.returncode != 0:
        raise CompatError(f"{python}: cannot tell its Python version for the downstream runtime")
    return proc.stdout.strip()


def runtime_dir(python: str, requirements: tuple[str, ...]) -> Path:
    """The packages a downstream release needs besides dagster, installed for `python`'s version
    into a directory of their own (cached), to go on the worker's path."""
    tag = _cache_tag(python)
    key = hashlib.sha256("\0".join([tag, *requirements]).encode()).hexdigest()[:24]
    dest = envs.cache_dir() / "downstream" / "runtime" / key

    def fill(tmp: Path) -> str:
        envs._run_uv(["pip", "install", "--quiet", "--python", python, "--no-deps", "--target", str(tmp),
                      *requirements], f"cannot install {', '.join(requirements)} for the downstream replay")
        return " ".join([tag, *requirements]) + "\n"

    return envs.build_once(dest, f"downstream-runtime-{key}", fill)


class Worker(WorkerProcess):
    def __init__(self, python: str, paths: list[Path], label: str) -> None:
        path = os.pathsep.join([str(PROJECT_ROOT), *map(str, paths)])
        super().__init__(python, "compat.tools.downstream_worker", name=f"downstream worker for {label}",
                         extra_env={"PYTHONPATH": path})

    def run(self, cell: Cell, server: dict[str, Any] | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {"subclass": cell.spied, "scenario": cell.scenario}
        if server is not None:
            request["server"] = server
        return self.request(request, TIMEOUT, f"replaying {cell.subclass} ({cell.scenario})")["trace"]


def server_request(package: str, server: servers.Server) -> dict[str, Any]:
    """What a storage cell's worker needs of the running server: how to reach it (a fresh
    database per cell), and the package's storages to configure on it."""
    spec = STORAGES[package]
    admin = "postgres" if server.kind == servers.POSTGRES else ""
    template = f"{servers.DATABASE}_template"
    return {"kind": server.kind, "root": str(server.root), "database": servers.DATABASE, "template": template,
            "url": server.url(), "template_url": server.url(template), "admin_url": server.url(admin),
            "config_key": spec.config_key,
            "storages": dict(spec.classes)}


def cache_path(side: Side, wheel: downstream.Wheel) -> Path:
    runtime, cells = REPLAYED[wheel.package]
    key = hashlib.sha256("\0".join([_code_digest(), side.content_digest(), wheel.sha256, *runtime,
                                    *(repr(c) for c in cells)]).encode())
    return envs.cache_dir() / "ecosystem" / "replay" / f"{key.hexdigest()[:32]}.json"


def cached(side: Side, wheel: downstream.Wheel) -> list[dict] | None:
    """The package's traces on `side` from the cache (checked against the schema), or None."""
    path = cache_path(side, wheel)
    if not path.exists():
        return None
    data = jsonio.read_json(path, schema=REPLAY_SCHEMA, versions=(1,))
    schemas.check(ReplayFile, data, path)
    return data["traces"]


def record(side: Side, wheel: downstream.Wheel, progress: Callable[[str], None] = lambda _m: None,
           server: servers.Server | None = None) -> list[dict]:
    """The traces of the package's cells on `side`'s dagster (cached); a package whose cells run
    on a database server needs `server` running unless both are cached."""
    traces = cached(side, wheel)
    if traces is not None:
        return traces
    runtime, cells = REPLAYED[wheel.package]
    if any(c.server for c in cells) and server is None:
        raise CompatError(f"{wheel.label}: its storages replay on a database server, and none was started")
    python = side.python
    progress(f"replaying {len(cells)} {wheel.label} cell(s) on {side.label}")
    worker = Worker(python, [wheel.tree, runtime_dir(python, runtime)], f"{wheel.label} on {side.label}")
    request = server_request(wheel.package, server) if server is not None else None
    try:
        traces = [worker.run(cell, request if cell.server else None) for cell in cells]
    finally:
        worker.close()
    jsonio.write_json(cache_path(side, wheel), {"schema": REPLAY_SCHEMA, "schema_version": 1,
                                                 "package": wheel.package, "version": wheel.version,
                                                 "sha256": wheel.sha256, "traces": traces})
    return traces


def record_both(old: Side, new: Side, wheel: downstream.Wheel,
                progress: Callable[[str], None] = lambda _m: None) -> tuple[list[dict], list[dict]]:
    """The package's traces on both sides; its database server, when it needs one and a side is
    not cached, started once for both and stopped before this returns."""
    olds, news = cached(old, wheel), cached(new, wheel)
    if olds is not None and news is not None:
        return olds, news
    kinds = sorted({c.server for c in REPLAYED[wheel.package][1] if c.server})
    if not kinds:
        return record(old, wheel, progress), record(new, wheel, progress)
    (kind,) = kinds
    progress(f"starting {kind} for {wheel.label}")
    with servers.STARTERS[kind]() as server:
        return record(old, wheel, progress, server), record(new, wheel, progress, server)


def replay(old: Side, new: Side, wheels: dict[str, downstream.Wheel],
           progress: Callable[[str], None] = lambda _m: None) -> tuple[dict[tuple[str, str], str], list[Finding]]:
    """Per replayed (subclass, base): "identical" or "diverged"; and the divergences as findings,
    each naming its subclass and base as the profile checks' findings do."""
    verdicts: dict[tuple[str, str], str] = {}
    findings: list[Finding] = []
    for name, wheel in sorted(wheels.items()):
        if name not in REPLAYED:
            continue
        olds, news = record_both(old, new, wheel, progress)
        for cell, o, n in zip(REPLAYED[name][1], olds, news):
            f = compare(o, n)
            verdicts[(cell.subclass, cell.base)] = "identical" if f is None else "diverged"
            if f is not None:
                f.details = {**(f.details or {}), "subclass": cell.subclass, "base": cell.base,
                             "package": wheel.label, "package_name": wheel.package, "package_version": wheel.version}
                findings.append(f)
    return verdicts, findings


def attach_witnesses(causes: list[Cause], old: Side, new: Side) -> int:
    """A breaking cause that a replayed pair shows carries that pair's cell as its witness: the
    downstream class itself, exercised on both dagsters (its old release on both sides), ran
    on the old side as before and diverged on the new one. The program names the cell and the
    command that replays it. How many causes got one."""
    attached = 0
    for c in causes:
        w = witness_mod.cell_witness(c)
        shown = [f for f in c.findings if f.source == "behaviour" and (f.details or {}).get("package")]
        if w is None or not shown:
            continue
        f = min(shown, key=lambda f: f.member)
        cell = (f.details or {}).get("cell") or {}
        package = f.details["package_name"]
        on = f" on a {cell['storage']} server the harness starts" if cell.get("storage") in servers.KINDS else ""
        w.code = (f"# behaviour cell {f.member} of {f.details['package']}{on}: {f.details['subclass']}\n"
                  f"# driven through `{cell.get('scenario')}` with the package's old release on both sides;\n"
                  f"# replay it with:\n#   compat ecosystem --old {old.text} --new {new.text} --packages {package}\n"
                  f"# {f.message}\n")
        witness_mod.judge(c, w, "")
        attached += 1
    return attached


__all__ = ["REPLAYED", "STORAGES", "Cell", "attach_witnesses", "cache_path", "cached", "record", "record_both",
           "replay", "runtime_dir"]

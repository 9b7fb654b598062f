"""The ecosystem check's behaviour layer: downstream overrides replayed on both dagsters.

A pair is replayed when its base has a contract that runs without an outside service; today
that is dagster-duckdb's three classes (`DuckDbClient` under `DbIOManager`, `DuckDBIOManager` as
a `ConfigurableIOManagerFactory`, `DuckDBResource` as a `ConfigurableResource`), on DuckDB in a temp
dir. The other packages' bases need Postgres, MySQL, dagster-cloud's API, Kubernetes, Docker,
Celery or a cloud store, and dagster's own sqlite storages have no subclass in them.

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

from compat import downstream, envs, tempdirs
from compat.behaviour.replay import compare
from compat.channel import PROJECT_ROOT, WorkerProcess
from compat.model import jsonio, schemas
from compat.model.errors import CompatError
from compat.model.findings import Finding
from compat.sides import Side

REPLAY_SCHEMA = "compat.ecosystem-replay"
TIMEOUT = 300.0  # seconds for one cell (a few materializations)


@dataclass(frozen=True)
class Cell:
    subclass: str  # dotted, as in the pairs
    base: str  # "module:Class"
    scenario: str  # a scenario of compat.tools.downstream_worker

    @property
    def spied(self) -> str:  # the worker's "module:Class" spelling
        module, _, name = self.subclass.rpartition(".")
        return f"{module}:{name}"


# per package: the runtime its old release needs (pinned, the same on both sides), and its cells
REPLAYED: dict[str, tuple[tuple[str, ...], tuple[Cell, ...]]] = {
    "dagster-duckdb": (("duckdb==2.0.1",), (
        Cell("dagster_duckdb.io_manager.DuckDbClient", "dagster._core.storage.db_io_manager:DbClient", "db-io-manager"),
        Cell("dagster_duckdb.io_manager.DuckDBIOManager",
             "dagster._config.pythonic_config.io_manager:ConfigurableIOManagerFactory", "db-io-manager"),
        Cell("dagster_duckdb.resource.DuckDBResource", "dagster._config.pythonic_config.resource:ConfigurableResource",
             "duckdb-resource"),
    )),
}
WORKER_CODE = ("tools/downstream_worker.py", "behaviour/spy.py", "model/trace.py", "channel.py", "behaviour/speedups.py")


class ReplayFile(schemas._Open):
    package: StrictStr
    version: StrictStr
    sha256: StrictStr
    traces: list[schemas.TraceFile]


def _code_digest() -> str:
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for rel in WORKER_CODE:
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

    def run(self, cell: Cell) -> dict[str, Any]:
        return self.request({"subclass": cell.spied, "scenario": cell.scenario}, TIMEOUT,
                            f"replaying {cell.subclass} ({cell.scenario})")["trace"]


def record(side: Side, wheel: downstream.Wheel, progress: Callable[[str], None] = lambda _m: None) -> list[dict]:
    """The traces of the package's cells on `side`'s dagster (cached)."""
    runtime, cells = REPLAYED[wheel.package]
    key = hashlib.sha256("\0".join([_code_digest(), side.content_digest(), wheel.sha256, *runtime]).encode())
    path = envs.cache_dir() / "ecosystem" / "replay" / f"{key.hexdigest()[:32]}.json"
    if path.exists():
        data = jsonio.read_json(path, schema=REPLAY_SCHEMA, versions=(1,))
        schemas.check(ReplayFile, data, path)
        return data["traces"]
    python = side.python
    progress(f"replaying {len(cells)} {wheel.label} cell(s) on {side.label}")
    worker = Worker(python, [wheel.tree, runtime_dir(python, runtime)], f"{wheel.label} on {side.label}")
    try:
        traces = [worker.run(cell) for cell in cells]
    finally:
        worker.close()
    jsonio.write_json(path, {"schema": REPLAY_SCHEMA, "schema_version": 1, "package": wheel.package,
                             "version": wheel.version, "sha256": wheel.sha256, "traces": traces})
    return traces


def replay(old: Side, new: Side, wheels: dict[str, downstream.Wheel],
           progress: Callable[[str], None] = lambda _m: None) -> tuple[dict[tuple[str, str], str], list[Finding]]:
    """Per replayed (subclass, base): "identical" or "diverged"; and the divergences as findings,
    each naming its subclass and base as the profile checks' findings do."""
    verdicts: dict[tuple[str, str], str] = {}
    findings: list[Finding] = []
    for name, wheel in sorted(wheels.items()):
        if name not in REPLAYED:
            continue
        olds, news = record(old, wheel, progress), record(new, wheel, progress)
        for cell, o, n in zip(REPLAYED[name][1], olds, news):
            f = compare(o, n)
            verdicts[(cell.subclass, cell.base)] = "identical" if f is None else "diverged"
            if f is not None:
                f.details = {**(f.details or {}), "subclass": cell.subclass, "base": cell.base,
                             "package": wheel.label}
                findings.append(f)
    return verdicts, findings


__all__ = ["REPLAYED", "Cell", "record", "replay", "runtime_dir"]

"""Worker for the ecosystem's behaviour replay: a downstream subclass driven through its dagster
base's contract, in an environment holding one dagster and the package's old release.

Replayed here: the database IO manager (`DbIOManager` dispatching to a `DbClient`, built by a
`ConfigurableIOManagerFactory`) and the resource it configures, on DuckDB in a temp dir; and
dagster's sql storages as dagster-postgres and dagster-mysql subclass them (below). Each cell
spies on one downstream class: every member that class defines over a member of its dagster base
is wrapped (``spy.spy_class``), the scenario runs real materializations, and the trace is the
dispatches to those members, what each step returned and the tables left in the database: the
shape of an instance trace, so the instance's comparison reads it.

The storages of dagster-postgres and dagster-mysql are replayed on a real server the parent
started (:mod:`compat.servers`): the cell runs one of the *instance's* scenarios
(:mod:`compat.behaviour.scenarios`) on an instance configured with the package's storages, on a
database made fresh for the cell, the storage of the spied class's kind spied.

Requests (JSON lines): ``{"subclass": S, "scenario": N}``, with ``"server": {...}`` for a storage
cell; ``{"op": "exit"}`` ends the worker.
Imports: stdlib, dagster, the downstream package, and compat modules that import only those.
"""

# no `from __future__ import annotations`: dagster resolves the scenarios' asset annotations
import importlib
import os
import shutil
import sys
import tempfile
import traceback
from typing import Any, Callable

DUCKDB_CLIENT = "dagster_duckdb.io_manager:DuckDbClient"
DUCKDB_IO_MANAGER = "dagster_duckdb.io_manager:DuckDBIOManager"
DUCKDB_RESOURCE = "dagster_duckdb.resource:DuckDBResource"


def _load(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def overridden(cls: type) -> list[str]:
    """The members `cls` defines itself over a member of a dagster class it inherits."""
    bases = [k for k in cls.__mro__[1:] if k.__module__.split(".")[0] == "dagster"]
    def member(v: Any) -> bool:
        return isinstance(v, (property, staticmethod, classmethod)) or callable(v)

    return sorted(n for n, v in vars(cls).items() if not (n.startswith("__") and n.endswith("__"))
                  and member(v) and any(n in vars(b) for b in bases))


class _Steps:
    """Each step's outcome, in order; an exception is data, as in an instance trace."""

    def __init__(self) -> None:
        self.result: dict[str, Any] = {}
        self.order: list[str] = []

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        from compat.model.trace import exception_data, to_jsonable

        self.order.append(name)
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - recorded as data
            self.result[name] = {"__exception__": exception_data(exc)}
            return None
        self.result[name] = to_jsonable(value)
        return value


def _rows_handler():
    """A type handler of the harness's own: a list of (i, s) rows, one table per asset, the
    partition in column `part`. It reads back through the client's select statement, as the
    package's pandas handler does."""
    from dagster._core.storage.db_io_manager import DbTypeHandler

    client = _load(DUCKDB_CLIENT)

    class RowsHandler(DbTypeHandler):
        def handle_output(self, context, table_slice, obj, connection):
            name = f"{table_slice.schema}.{table_slice.table}"
            connection.execute(f"create table if not exists {name} (i integer, s varchar, part varchar)")
            part = context.partition_key if context.has_partition_key else None
            for row in obj:
                connection.execute(f"insert into {name} values (?, ?, ?)", [row[0], row[1], part])

        def load_input(self, context, table_slice, connection):
            rows = connection.execute(client.get_select_statement(table_slice)).fetchall()
            return sorted([list(r) for r in rows], key=repr)

        @property
        def supported_types(self):
            return [list]

    return RowsHandler()


def _outcome(res, names: list[str]) -> dict[str, Any]:
    """Success and each asset's output, or the first line of each step failure."""
    if res.success:
        return {"success": True, "outputs": {k: res.output_for_node(k) for k in names}}
    failures = [e for e in res.all_events if e.event_type_value == "STEP_FAILURE"]
    return {"success": False, "failures": [f"{e.step_key}: {_root_cause(e.event_specific_data.error)}" for e in failures]}


def _root_cause(error) -> str:
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return (error.message or "").strip().splitlines()[-1] if error.message else "?"


def _tables(database: str) -> dict[str, Any]:
    import gc

    import duckdb

    gc.collect()  # a step that failed inside the client's connect() left its connection to the collector
    conn = duckdb.connect(database, read_only=True)
    try:
        names = conn.execute("select table_schema, table_name from information_schema.tables "
                             "order by 1, 2").fetchall()
        return {f"{s}.{t}": sorted((list(r) for r in conn.execute(f'select * from "{s}"."{t}"').fetchall()), key=repr)
                for s, t in names}
    finally:
        conn.close()


def _duckdb_assets() -> tuple:
    """The assets db_io_manager materializes: two unpartitioned (one loaded as the default type),
    a partial column read, static partitions and their union, daily partitions."""
    import dagster as dg

    @dg.asset
    def numbers() -> list:
        return [[1, "one"], [2, "two"], [3, "three"]]

    @dg.asset
    def doubled(numbers) -> list:  # unannotated: loaded as the default type
        return [[row[0] * 2, row[1] + row[1]] for row in numbers]

    @dg.asset(ins={"numbers": dg.AssetIn(metadata={"columns": ["i"]})})
    def only_i(numbers) -> list:
        return [[row[0], "i"] for row in numbers]

    letters = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(partitions_def=letters, metadata={"partition_expr": "part"})
    def by_letter(context) -> list:
        return [[ord(context.partition_key), context.partition_key]]

    @dg.asset
    def all_letters(by_letter) -> list:
        return by_letter

    days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")

    @dg.asset(partitions_def=days, metadata={"partition_expr": "cast(part as timestamp)"})
    def by_day(context) -> list:
        return [[int(context.partition_key[-2:]), context.partition_key]]

    return numbers, doubled, only_i, by_letter, all_letters, by_day


def db_io_manager(spied: str, work: str) -> dict[str, Any]:
    """Assets written and read through the DuckDB IO manager: unpartitioned, re-materialized,
    static and daily partitions, a partial column read, a multi-partition read."""
    import dagster as dg

    from compat.worker import spy

    io_module = importlib.import_module(DUCKDB_CLIENT.partition(":")[0])
    client, factory = _load(DUCKDB_CLIENT), _load(DUCKDB_IO_MANAGER)
    handler = _rows_handler()

    class RowsIOManager(factory):  # the harness's concrete manager on the package's base
        @staticmethod
        def type_handlers():
            return [handler]

        @staticmethod
        def default_load_type():
            return list

    io_cls: type = RowsIOManager
    if spied == DUCKDB_CLIENT:  # the manager builds its client by name from its own module
        io_module.DuckDbClient = spy.spy_class(client)
    elif spied == DUCKDB_IO_MANAGER:
        io_cls = spy.spy_class(RowsIOManager)
    members = overridden(_load(spied))
    database = os.path.join(work, "db.duckdb")
    io = io_cls(database=database, schema="compat")

    numbers, doubled, only_i, by_letter, all_letters, by_day = _duckdb_assets()

    def run(assets, selection=None, partition=None):
        res = dg.materialize(assets, resources={"io_manager": io}, selection=selection, partition_key=partition,
                             raise_on_error=False)
        names = sorted(a.op.name for a in assets if selection is None or a.op.name in selection)
        return _outcome(res, names)

    steps = _Steps()
    spy.RECORDER.start()
    try:
        steps.run("numbers-and-doubled", lambda: run([numbers, doubled]))
        steps.run("numbers-again", lambda: run([numbers, doubled], selection=["numbers"]))
        steps.run("columns", lambda: run([numbers, only_i], selection=["only_i"]))
        steps.run("letter-a", lambda: run([by_letter], partition="a"))
        steps.run("letter-b", lambda: run([by_letter], partition="b"))
        steps.run("letter-a-again", lambda: run([by_letter], partition="a"))
        steps.run("all-letters", lambda: run([by_letter, all_letters], selection=["all_letters"]))
        steps.run("day-2", lambda: run([by_day], partition="2024-01-02"))
        steps.run("day-3", lambda: run([by_day], partition="2024-01-03"))
        steps.run("day-2-again", lambda: run([by_day], partition="2024-01-02"))
    finally:
        events = spy.RECORDER.stop()
        io_module.DuckDbClient = client
    return {"result": steps.result, "dispatch": [e for e in events if e["member"] in members],
            "state": _attempt_tables(database), "meta": {"steps": steps.order, "spied_members": members}}


def duckdb_resource(spied: str, work: str) -> dict[str, Any]:
    """The resource configured and used from an asset: a table created and read, a setting passed."""
    import dagster as dg

    from compat.worker import spy

    resource_cls = spy.spy_class(_load(DUCKDB_RESOURCE))
    database = os.path.join(work, "res.duckdb")

    @dg.asset
    def made(duckdb: dg.ResourceParam[Any]) -> list:
        with duckdb.get_connection() as conn:
            conn.execute("create table if not exists t (x integer)")
            conn.execute("insert into t values (1), (2)")
            return [list(r) for r in conn.execute("select x, current_setting('threads') from t order by x").fetchall()]

    steps = _Steps()
    res = resource_cls(database=database, connection_config={"threads": 1})
    spy.RECORDER.start()
    try:
        for name in ("first", "second"):
            steps.run(name, lambda: _outcome(dg.materialize([made], resources={"duckdb": res}, raise_on_error=False),
                                             ["made"]))
    finally:
        events = spy.RECORDER.stop()
    members = overridden(_load(DUCKDB_RESOURCE))
    return {"result": steps.result, "dispatch": [e for e in events if e["member"] in members],
            "state": _attempt_tables(database), "meta": {"steps": steps.order, "spied_members": members}}


def _attempt_tables(database: str) -> Any:
    from compat.model.trace import exception_data

    try:
        return _tables(database)
    except Exception as exc:  # noqa: BLE001
        return {"__exception__": exception_data(exc)}


# ---- the storages of dagster-postgres and dagster-mysql, on a real server

# where the instance keeps each dagster storage base's object, and the base's dotted path
STORAGE_BASES = {
    "run_storage": "dagster._core.storage.runs.sql_run_storage:SqlRunStorage",
    "event_log_storage": "dagster._core.storage.event_log.sql_event_log:SqlEventLogStorage",
    "schedule_storage": "dagster._core.storage.schedules.sql_schedule_storage:SqlScheduleStorage",
}


_TEMPLATES: set[str] = set()  # the template databases this worker built (one per server)


def _admin(url: str):
    import sqlalchemy as db
    from sqlalchemy.pool import NullPool

    return db.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def fresh_database(server: dict[str, Any]) -> None:
    """The cell's database as the package's storages leave a new one: dropped (with any
    connection a previous cell left) and made again from a template that this worker's dagster
    built once (the storages' own table creation and migrations, seconds per storage on a real
    server, run once per worker instead of once per cell)."""
    import json

    import sqlalchemy as db

    from dagster._core.instance import DagsterInstance, InstanceRef

    database, template = server["database"], server["template"]
    engine = _admin(server["admin_url"])
    postgres = engine.dialect.name == "postgresql"
    force = " WITH (FORCE)" if postgres else ""
    try:
        with engine.connect() as conn:
            if template not in _TEMPLATES:  # a side's first cell: the other side's template goes
                conn.execute(db.text(f"DROP DATABASE IF EXISTS {template}{force}"))
                conn.execute(db.text(f"DROP DATABASE IF EXISTS {database}{force}"))
                conn.execute(db.text(f"CREATE DATABASE {template}"))
                work = tempfile.mkdtemp(prefix="compat-template-", dir=os.environ.get("HOME"))
                try:
                    with open(os.path.join(work, "dagster.yaml"), "w") as fh:
                        json.dump(_storages_yaml(server, server["template_url"]), fh)
                    DagsterInstance.from_ref(InstanceRef.from_dir(work)).dispose()
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                _TEMPLATES.add(template)
            if postgres:
                conn.execute(db.text(f"DROP DATABASE IF EXISTS {database}{force}"))
                conn.execute(db.text(f"CREATE DATABASE {database} TEMPLATE {template}"))
                return
            _reset_like(conn, database, template)
    finally:
        engine.dispose()


def _reset_like(conn, database: str, template: str) -> None:
    """MariaDB has no template databases, and creating its tables again for every cell costs
    seconds: each table of `database` gets the template's rows back instead (tables the cell
    dropped, or a database not made yet, are created like the template's), its counters reset,
    and a table the template lacks is dropped."""
    import sqlalchemy as db

    def tables(schema: str) -> list[str]:
        return [r[0] for r in conn.execute(db.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :s ORDER BY table_name"),
            {"s": schema})]

    conn.execute(db.text(f"CREATE DATABASE IF NOT EXISTS {database}"))
    conn.execute(db.text("SET FOREIGN_KEY_CHECKS = 0"))
    try:
        wanted, present = tables(template), set(tables(database))
        for t in sorted(present - set(wanted)):
            conn.execute(db.text(f"DROP TABLE {database}.`{t}`"))
        for t in wanted:
            if t in present:
                conn.execute(db.text(f"DELETE FROM {database}.`{t}`"))
                conn.execute(db.text(f"ALTER TABLE {database}.`{t}` AUTO_INCREMENT = 1"))
            else:
                conn.execute(db.text(f"CREATE TABLE {database}.`{t}` LIKE {template}.`{t}`"))
            conn.execute(db.text(f"INSERT INTO {database}.`{t}` SELECT * FROM {template}.`{t}`"))
    finally:
        conn.execute(db.text("SET FOREIGN_KEY_CHECKS = 1"))


def _storages_yaml(server: dict[str, Any], url: str) -> dict[str, Any]:
    """The dagster.yaml that configures the package's three storages on `url`."""
    return {k: {"module": m, "class": c, "config": {server["config_key"]: url}}
            for k, (m, c) in ((k, v.split(":")) for k, v in sorted(server["storages"].items()))}


def _outcomes(results: dict[str, Any]) -> dict[str, Any]:
    """What each step did, as the downstream storage's contract shows it: returned, or raised
    (the exception's type). The values themselves are dagster's: the instance's own traces
    compare them, and a change there is dagster's, whichever storage is under it."""
    return {k: ({"__exception__": {"type": v["__exception__"].get("type")}}
                if isinstance(v, dict) and "__exception__" in v else "returned") for k, v in results.items()}


def instance_storage(spied: str, scenario: str, work: str, server: dict[str, Any]) -> dict[str, Any]:
    """One of the instance's scenarios on an instance whose run, event-log and schedule storages
    are the package's own on a real server (configured in a dagster.yaml, as users do), the
    storage of the spied class's kind spied: the dispatches to the members that class overrides
    over its dagster base, and each step's outcome."""
    import json

    from dagster._core.instance import DagsterInstance, InstanceRef

    from compat.worker import spy
    from compat.behaviour.scenarios import SCENARIOS, Ctx

    cls = _load(spied)
    kind = next((k for k, base in STORAGE_BASES.items() if issubclass(cls, _load(base))), None)
    if kind is None:
        raise LookupError(f"{spied} subclasses none of dagster's sql storages")
    fresh_database(server)
    with open(os.path.join(work, "dagster.yaml"), "w") as fh:
        json.dump(_storages_yaml(server, server["url"]), fh, indent=2, sort_keys=True)
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(work))
    steps: dict[str, Any] = {}
    exception = None
    try:
        storage = getattr(instance, kind)
        if type(storage) is not cls:
            raise LookupError(f"the instance's {kind} is {type(storage).__name__}, not {cls.__name__}")
        spy.attach(storage)
        members = overridden(cls)
        ctx = Ctx(tmpdir=work, storage="sqlite", owner=instance)
        spy.RECORDER.start()
        try:
            SCENARIOS[scenario].fn(instance, ctx)
        except Exception as exc:  # noqa: BLE001 - the scenario's own exception is data
            from compat.model.trace import exception_data

            exception = {"type": exception_data(exc)["type"]}
        finally:
            events = spy.RECORDER.stop()
        steps = ctx.results
    finally:
        instance.dispose()
    return {"result": _outcomes(steps), "exception": exception,
            "dispatch": [e for e in events if e["member"] in members],
            "meta": {"steps": list(steps), "spied_members": members, "storage": kind}}


SCENARIOS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "db-io-manager": db_io_manager,
    "duckdb-resource": duckdb_resource,
}


def run_cell(subclass: str, scenario: str, server: dict[str, Any] | None = None) -> dict[str, Any]:
    """One cell: a scenario of this module, or with `server` (a running database server: its
    kind, URLs and the package's storages) one of the instance's scenarios on that server."""
    from compat.model.trace import exception_data, normalize_trace

    work = tempfile.mkdtemp(prefix="compat-downstream-", dir=os.environ.get("HOME"))
    cell = {"subclass": subclass, "scenario": scenario, "storage": server["kind"] if server else "duckdb"}
    tmpdirs = [work] + ([server["root"]] if server else [])
    try:
        try:
            raw = (instance_storage(subclass, scenario, work, server) if server is not None
                   else SCENARIOS[scenario](subclass, work))
        except Exception as exc:  # noqa: BLE001 - the cell could not run at all
            raw = {"cell_error": f"{exception_data(exc)['type']}: {exception_data(exc)['message']}"}
        return normalize_trace({"cell": cell, **raw}, tmpdirs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    from compat.channel import requests, serve

    send = serve()
    import dagster

    send({"hello": True, "dagster_version": dagster.__version__})
    for req in requests():
        try:
            send({"ok": True, "trace": run_cell(req["subclass"], req["scenario"], req.get("server"))})
        except Exception as exc:  # noqa: BLE001 - protocol-level failure, reported to the parent
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=5)})
    return 0


if __name__ == "__main__":
    sys.exit(main())

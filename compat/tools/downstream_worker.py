"""Worker for the ecosystem's behaviour replay: a downstream subclass driven through its dagster
base's contract, in an environment holding one dagster and the package's old release.

Only bases whose contract runs without an outside service are replayed: the database IO manager
(`DbIOManager` dispatching to a `DbClient`, built by a `ConfigurableIOManagerFactory`) and the
resource it configures, on DuckDB in a temp dir. Each cell spies on one downstream class: every
member that class defines over a member of its dagster base is wrapped (``spy.spy_class``), the
scenario runs real materializations, and the trace is the dispatches to those members, what each
step returned and the tables left in the database: the shape of an instance trace, so the
instance's comparison reads it.

Requests (JSON lines): ``{"subclass": S, "scenario": N}``; ``{"op": "exit"}`` ends the worker.
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


def db_io_manager(spied: str, work: str) -> dict[str, Any]:
    """Assets written and read through the DuckDB IO manager: unpartitioned, re-materialized,
    static and daily partitions, a partial column read, a multi-partition read."""
    import dagster as dg

    from compat.behaviour import spy

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

    from compat.behaviour import spy

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


SCENARIOS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "db-io-manager": db_io_manager,
    "duckdb-resource": duckdb_resource,
}


def run_cell(subclass: str, scenario: str) -> dict[str, Any]:
    from compat.model.trace import exception_data, normalize_trace

    work = tempfile.mkdtemp(prefix="compat-downstream-", dir=os.environ.get("HOME"))
    cell = {"subclass": subclass, "scenario": scenario, "storage": "duckdb"}
    try:
        try:
            raw = SCENARIOS[scenario](subclass, work)
        except Exception as exc:  # noqa: BLE001 - the cell could not run at all
            raw = {"cell_error": f"{exception_data(exc)['type']}: {exception_data(exc)['message']}"}
        return normalize_trace({"cell": cell, **raw}, [work])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    from compat.channel import requests, serve

    send = serve()
    import dagster

    send({"hello": True, "dagster_version": dagster.__version__})
    for req in requests():
        try:
            send({"ok": True, "trace": run_cell(req["subclass"], req["scenario"])})
        except Exception as exc:  # noqa: BLE001 - protocol-level failure, reported to the parent
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=5)})
    return 0


if __name__ == "__main__":
    sys.exit(main())

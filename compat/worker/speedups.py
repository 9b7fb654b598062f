"""Worker-side speed-ups: what a worker's storages cost that no trace can see.

1. Reuse alembic's parsed migration scripts between storages. Every sqlite storage dagster
   creates (an in-memory instance has three, and a sqlite event log creates one database per
   run) is stamped with `alembic.command.stamp`, which builds a new `ScriptDirectory` and
   re-executes every migration script (~90 files) to compute the revision map: ~45 ms each, 90%
   of building an in-memory instance. The scripts do not change while a worker runs, so the
   parsed directory is cached per location. Stamping still writes the same revision into the
   same database; nothing dagster decides depends on this.
2. No fsync on the cells' sqlite files (``PRAGMA synchronous=OFF`` on every sqlite connection a
   worker opens). A sqlite instance creates its run, event-log index and schedule databases
   table by table, index by index, each statement a commit that waits for the disk: about 80%
   of building one (a second or more on a busy disk), and again for each run's event database.
   What is written, and every read, are the same; only durability across a power cut is given
   up, for files deleted when their cell ends.
3. Create a storage's tables from the statements that created them the first time. Every
   storage builds its empty schema with SQLAlchemy's ``MetaData.create_all``, which asks sqlite
   whether each table exists and compiles each CREATE TABLE and CREATE INDEX again: about half
   of building an in-memory instance. Into an empty sqlite database, the same metadata with the
   same arguments creates the same schema every time, so the statements sqlite recorded the
   first time (``sqlite_master``, in creation order) are executed as they are the next times.
   No data is written either way; the schema, and so every read, is the same.
4. One compiled-statement cache for all the sqlite engines of a worker. SQLAlchemy keeps the
   SQL it compiled for a statement per engine, and every storage of every cell has engines of
   its own, so each cell compiled every query it ran again (the final state's reads alone cost
   an empty in-memory instance 17 ms, against 6 ms on an instance that had read it before).
   Cached SQL is keyed by the dialect object; two sqlite dialects whose settings are all equal
   (they differ only in the helper objects each builds from those settings) compile every
   statement to the same SQL, so they share entries here. What is executed, with which
   parameters, on which connection, is the same; only the compiling is skipped. The one
   function of dagster that runs while SQLAlchemy compiles (``sql.py``'s ``@compiles`` hook
   for the current timestamp) runs while the worker starts, so it counts as able to carry
   state across cells (compat/behaviour/reach.py) and an edit of it replays every cell.

5. Stamp a new sqlite database's alembic revision with the statements the first stamp executed.
   Every storage stamps its new database with ``alembic.command.stamp`` (two per in-memory
   instance, three per sqlite one, one per run's event database), which loads and runs
   dagster's ``env.py``, configures a migration context, creates the version table and inserts
   the revision: 2.4 ms each, a fifth of building an in-memory instance. Into a sqlite database
   without a version table, with the same configuration, revision and transaction state, a stamp
   executes the same statements with the same parameters and commits at the same points every
   time, so the first stamp's statements and commits (seen through SQLAlchemy's connection
   events) are executed as they are the next times: the same database, the connection left in
   the same transaction state. The first stamp of each kind runs while the worker starts
   (building an instance on each storage), so dagster's code it runs counts as the start-up's
   (an edit of it replays every cell, compat/behaviour/reach.py).

Set COMPAT_NO_SPEEDUPS=1 to turn them all off.
"""

from __future__ import annotations

import os
import weakref

_INSTALLED = False


def install() -> bool:
    global _INSTALLED
    if _INSTALLED or os.environ.get("COMPAT_NO_SPEEDUPS") == "1":
        return _INSTALLED
    try:
        from alembic.script import ScriptDirectory
    except ImportError:
        return False
    original = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]
    cache: dict = {}

    def from_config(cls, config):
        key = (cls, config.get_main_option("script_location"), config.get_main_option("version_locations"))
        if None in key[1:2]:
            return original(cls, config)
        if key not in cache:
            cache[key] = original(cls, config)
        return cache[key]

    ScriptDirectory.from_config = classmethod(from_config)  # type: ignore[method-assign]
    _no_fsync()
    _replayed_schemas()
    _shared_compiled_cache()
    _replayed_stamps()
    _INSTALLED = True
    return True


def _no_fsync() -> None:
    """Every sqlite connection an engine opens from now on skips fsync (speed-up 2)."""
    try:
        import sqlite3

        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return

    def on_connect(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA synchronous=OFF")
            finally:
                cursor.close()

    event.listen(Engine, "connect", on_connect)


_SCHEMA_SQL = "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"


def _replayed_schemas() -> None:
    """``MetaData.create_all`` into an empty sqlite database replays what it executed the first
    time for the same metadata and arguments (speed-up 3)."""
    try:
        from sqlalchemy import MetaData
        from sqlalchemy.engine import Connection, Engine
    except ImportError:
        return
    original = MetaData.create_all
    recorded: dict = {}

    def create_all(self, bind, tables=None, checkfirst=True):
        if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
            with bind.begin() as conn:  # what create_all does with an engine
                return create_all(self, conn, tables, checkfirst)
        if not isinstance(bind, Connection) or bind.dialect.name != "sqlite" or \
                bind.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar():
            return original(self, bind, tables=tables, checkfirst=checkfirst)
        key = (id(self), tuple(id(t) for t in tables) if tables is not None else None, checkfirst,
               tuple(sorted(self.tables)))
        statements = recorded.get(key)
        if statements is None:
            original(self, bind, tables=tables, checkfirst=checkfirst)
            recorded[key] = [row[0] for row in bind.exec_driver_sql(_SCHEMA_SQL)]
            return None
        for statement in statements:
            bind.exec_driver_sql(statement)
        return None

    MetaData.create_all = create_all  # type: ignore[method-assign]


# the helper objects a dialect builds from its settings, one set per dialect object
_DIALECT_HELPERS = frozenset({"_type_memos", "identifier_preparer", "type_compiler", "type_compiler_instance"})
_SHARED_CACHE_SIZE = 20000  # statements; every cell's queries of every storage kind fit


class _Same:
    """A setting compared by identity (a module, a serializer function), kept alive while used."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __eq__(self, other) -> bool:
        return isinstance(other, _Same) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def _setting(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return tuple(_setting(v) for v in value)
    return _Same(value)


def _dialect_settings(dialect) -> tuple:
    return (type(dialect),) + tuple((k, _setting(v)) for k, v in sorted(vars(dialect).items())
                                    if k not in _DIALECT_HELPERS)


class _SharedCompiledCache:
    """An engine's compiled cache (``get`` and item assignment are what SQLAlchemy uses) whose
    entries are shared with every other engine whose dialect has the same settings: the
    dialect in a key is replaced by the first dialect seen with those settings (speed-up 4)."""

    def __init__(self, size: int) -> None:
        from sqlalchemy.util import LRUCache

        self._entries = LRUCache(size)
        self._first: dict = {}  # settings -> the first dialect with them
        self._canonical: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # dialect -> that one

    def _key(self, key):
        dialect = key[0]
        canonical = self._canonical.get(dialect)
        if canonical is None:
            canonical = self._canonical[dialect] = self._first.setdefault(_dialect_settings(dialect), dialect)
        return (canonical,) + tuple(key[1:])

    def get(self, key, default=None):
        return self._entries.get(self._key(key), default)

    def __getitem__(self, key):
        return self._entries[self._key(key)]

    def __setitem__(self, key, value) -> None:
        self._entries[self._key(key)] = value

    def __contains__(self, key) -> bool:
        return self._key(key) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return True

    def clear(self) -> None:
        self._entries.clear()


def _shared_compiled_cache() -> None:
    """Every sqlite engine, when it first connects, takes the worker's one compiled cache
    (speed-up 4); an engine created with caching off keeps it off."""
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return
    shared = _SharedCompiledCache(_SHARED_CACHE_SIZE)

    def on_engine_connect(connection) -> None:
        engine = connection.engine
        if engine.dialect.name == "sqlite" and engine._compiled_cache is not None and \
                engine._compiled_cache is not shared:
            engine._compiled_cache = shared

    event.listen(Engine, "engine_connect", on_engine_connect)


_VERSION_TABLE_SQL = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"


def _has_table(conn, name: str) -> bool:
    """Whether the connection's sqlite database has table ``name``, asked of the driver's own
    connection: through SQLAlchemy the query would begin a transaction, which the stamp then
    finds begun, and it depends on the transaction state it finds."""
    return bool(conn.connection.driver_connection.execute(_VERSION_TABLE_SQL, (name,)).fetchone()[0])


def _replayed_stamps() -> None:
    """``alembic.command.stamp`` of a sqlite database without a version table replays what the
    first such stamp with the same configuration, revision and transaction state executed
    (speed-up 5). dagster binds the function at import (``dagster._core.storage.sql.stamp``),
    so it is replaced there too when dagster is already imported."""
    import sys

    try:
        import alembic.command
        from sqlalchemy import event
        from sqlalchemy.engine import Connection
    except ImportError:
        return
    original = alembic.command.stamp
    recorded: dict = {}

    def stamp(config, revision, sql=False, tag=None, purge=False):
        conn = config.attributes.get("connection") if not (sql or tag or purge) else None
        if not isinstance(conn, Connection) or conn.dialect.name != "sqlite" or not isinstance(revision, str) or \
                _has_table(conn, config.get_main_option("version_table") or "alembic_version"):
            return original(config, revision, sql=sql, tag=tag, purge=purge)
        key = (config.get_main_option("script_location"), config.get_main_option("version_locations"),
               config.get_main_option("version_table"), revision, conn.in_transaction())
        steps = recorded.get(key)
        if steps is None:
            seen: list = []

            def on_execute(_conn, _cursor, statement, parameters, _context, executemany):
                seen.append(("execute", statement, parameters, executemany))

            def on_commit(_conn):
                seen.append(("commit",))

            def on_rollback(_conn):
                seen.append(("rollback",))

            listeners = (("before_cursor_execute", on_execute), ("commit", on_commit), ("rollback", on_rollback))
            for name, fn in listeners:
                event.listen(conn, name, fn)
            try:
                original(config, revision)
            finally:
                for name, fn in listeners:
                    event.remove(conn, name, fn)
            recorded[key] = seen
            return None
        for step in steps:
            if step[0] == "commit":
                conn.commit()
            elif step[0] == "rollback":
                conn.rollback()
            elif step[3]:
                conn.exec_driver_sql(step[1], list(step[2]))
            else:
                conn.exec_driver_sql(step[1], step[2])
        return None

    alembic.command.stamp = stamp
    sql_module = sys.modules.get("dagster._core.storage.sql")
    if sql_module is not None and getattr(sql_module, "stamp", None) is original:
        sql_module.stamp = stamp

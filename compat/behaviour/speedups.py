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

Set COMPAT_NO_SPEEDUPS=1 to turn both off.
"""

from __future__ import annotations

import os

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

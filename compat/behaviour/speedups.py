"""Worker-side speed-up: reuse alembic's parsed migration scripts between storages.

Every sqlite storage dagster creates (an in-memory instance has three, and a sqlite event log
creates one database per run) is stamped with `alembic.command.stamp`, which builds a new
`ScriptDirectory` and re-executes every migration script (~90 files) to compute the revision
map: ~45 ms each, 90% of building an in-memory instance. The scripts do not change while a
worker runs, so the parsed directory is cached per location. Stamping still writes the same
revision into the same database; nothing dagster decides depends on this. Set
COMPAT_NO_SPEEDUPS=1 to turn it off.
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
    _INSTALLED = True
    return True

"""The worker's speed-ups (compat/worker/speedups.py) change what a cell costs, never what it
records: the same cells give the same trace bytes with them and without them, and the shared
compiled cache hands a statement's SQL only to engines whose dialect has the same settings.

Each check runs in an interpreter of its own: the speed-ups patch SQLAlchemy and alembic for the
whole process, which must not leak into the other tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from compat.behaviour import replay

# a memory and a sqlite cell of the corpus, and a spy cell: dagster's queries, a run's own event
# database, the final state read back through every storage
CELLS = [{"subclass": "spy", "scenario": "runs_create_run_direct", "storage": "memory"},
         {"subclass": "spy", "scenario": "events_logging", "storage": "sqlite"},
         {"subclass": "base", "scenario": "events_logging", "storage": "memory"}]

_CACHE_PROBE = """
import json
from compat.worker import speedups
speedups.install()
import sqlalchemy as db

meta = db.MetaData()
t = db.Table("t", meta, db.Column("id", db.Integer, primary_key=True), db.Column("name", db.String))
query = db.select(t.c.name).where(t.c.id > 0).order_by(t.c.id)

def run(engine):
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(t.insert(), [{"name": "a"}, {"name": "b"}])
        result = conn.execute(query)
        rows = [r[0] for r in result]
        hit = result.context.cache_hit == engine.dialect.CACHE_HIT
    return rows, hit

first = run(db.create_engine("sqlite://"))
second = run(db.create_engine("sqlite://"))
other = run(db.create_engine("sqlite://", paramstyle="named"))
print(json.dumps({"first": first, "second": second, "other": other}))
"""

_STAMP_PROBE = """
import json
from compat.worker import speedups
speedups.install()
import sqlalchemy as db
from alembic.script import ScriptDirectory
from dagster._core.storage.runs import RunStorageSqlMetadata
from dagster._core.storage.runs.in_memory import InMemoryRunStorage
from dagster._core.storage.sql import get_alembic_config, stamp_alembic_rev
import dagster._core.storage.runs.in_memory as in_memory

envs = []
run_env = ScriptDirectory.run_env
ScriptDirectory.run_env = lambda self: envs.append(1) or run_env(self)

def stamped(in_transaction):
    engine = db.create_engine("sqlite://", poolclass=db.pool.StaticPool)
    conn = engine.connect()
    RunStorageSqlMetadata.create_all(conn)
    if not in_transaction:
        conn.commit()
    before = len(envs)
    stamp_alembic_rev(get_alembic_config(in_memory.__file__), conn)
    state = {"ran_env": len(envs) > before, "in_transaction": conn.in_transaction(),
             "version": [list(r) for r in conn.exec_driver_sql("SELECT * FROM alembic_version")],
             "schema": [list(r) for r in conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_master ORDER BY rowid")]}
    conn.close()
    return state

print(json.dumps([stamped(True), stamped(True), stamped(False), stamped(False)]))
"""

_TRACES = """
import json, sys
from compat.behaviour import worker
cells = json.loads(sys.argv[1])
print(json.dumps([worker.run_cell(c["subclass"], c["scenario"], c["storage"]) for c in cells], sort_keys=True))
"""


def _run(code: str, *args: str, env: dict | None = None) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


def test_engines_with_the_same_dialect_settings_share_compiled_sql_and_others_do_not():
    got = json.loads(_run(_CACHE_PROBE))
    assert got["first"] == [["a", "b"], False]  # compiled the first time
    assert got["second"] == [["a", "b"], True]  # another engine, the same settings: not compiled again
    assert got["other"] == [["a", "b"], False]  # another parameter style compiles its own SQL


def test_a_new_database_is_stamped_with_the_first_stamps_statements_to_the_same_state():
    first, again, committed, committed_again = json.loads(_run(_STAMP_PROBE))
    assert first["ran_env"] and not again["ran_env"]  # the second stamp ran no env.py: it was replayed
    assert first["version"] and again == {**first, "ran_env": False}
    # another transaction state is another stamp: recorded once, then replayed, the same way
    assert committed["ran_env"] and not committed_again["ran_env"]
    assert committed_again == {**committed, "ran_env": False}
    assert committed["version"] == first["version"] and committed["schema"] == first["schema"]


def test_cells_record_the_same_trace_bytes_with_the_speed_ups_and_without():
    # the speed-ups are installed with the worker's channel; run_cell alone runs without them
    # unless installed, so the first run installs them the way a worker does
    with_them = _run("from compat.worker import speedups; assert speedups.install()\n" + _TRACES,
                     json.dumps(CELLS))
    without = _run("from compat.worker import speedups; assert not speedups.install()\n" + _TRACES,
                   json.dumps(CELLS), env={"COMPAT_NO_SPEEDUPS": "1"})
    assert [t["cell"] for t in json.loads(with_them)] == CELLS
    assert not any(t["cell_error"] for t in json.loads(with_them))
    assert with_them == without

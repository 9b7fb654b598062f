"""`compat ecosystem`: downstream releases, subclass discovery, any dagster base as a target.

Toy trees (a package named `dagster` and a downstream package `ext`) pin discovery and the
factory-free construction rules; real wheels from the index pin the release matching, the cache
and the command end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from trees import write_tree

from compat import downstream
from compat.model.errors import CompatError
from compat.static.extract import snapshot
from compat.static.profile import profile_source
from compat.static.profile_checks import check_profile
from compat.static.subclasses import discover

DAGSTER = {
    "dagster/__init__.py": "from dagster.core import Storage, SqlStorage, Configurable, Launcher\n",
    "dagster/core.py": '''
        class Configurable:
            def config_type(self):
                return {}


        class Storage:
            def __init__(self, url=None):
                self._url = url

            def get_run(self, run_id):
                return self.fetch(run_id)

            def fetch(self, run_id):
                return run_id


        class SqlStorage(Storage, Configurable):
            pass


        class Launcher:
            def __init__(self):
                self._ready = True

            def launch_run(self, context):
                return self.submit(context)

            def submit(self, context):
                return None
    ''',
}
EXT = {
    "ext/__init__.py": "",
    "ext/storage.py": '''
        from dagster import SqlStorage, Configurable
        from dagster.core import Storage


        class Direct(Storage):
            def fetch(self, run_id):
                return None


        class Both(SqlStorage, Configurable):
            """Configurable is in SqlStorage's MRO: SqlStorage alone is its base."""


        class Mid(Storage):
            pass


        class Leaf(Mid):
            """Reaches Storage through a class of its own package."""


        class Plain:
            pass
    ''',
    "ext/launcher.py": '''
        import dagster
        from ext.storage import Plain


        class MyLauncher(dagster.Launcher, Plain):
            def __init__(self, region):
                super().__init__()
                self._region = region

            def submit(self, context):
                return self._region
    ''',
}


@pytest.fixture()
def trees(tmp_path):
    return write_tree(tmp_path / "dagster-src", DAGSTER), write_tree(tmp_path / "ext-src", EXT)


def test_discovery_finds_every_subclass_with_its_nearest_dagster_bases(trees):
    dagster, ext = trees
    found = {f.subclass: [b.target for b in f.bases] for f in discover(ext, [str(dagster)])}
    assert found == {
        "ext.launcher.MyLauncher": ["dagster.core:Launcher"],
        "ext.storage.Both": ["dagster.core:SqlStorage"],
        "ext.storage.Direct": ["dagster.core:Storage"],
        "ext.storage.Leaf": ["dagster.core:Storage"],
        "ext.storage.Mid": ["dagster.core:Storage"],
    }
    # near miss: the same package against a dagster without those classes finds nothing
    empty = write_tree(ext.parent / "other", {"dagster/__init__.py": "class Unrelated:\n    pass\n"})
    assert discover(ext, [str(empty)]) == []


def test_discovery_keeps_the_name_the_package_imports(trees):
    dagster, ext = trees
    both = next(f for f in discover(ext, [str(dagster)]) if f.subclass == "ext.storage.Both")
    assert [(b.target, b.imported_as) for b in both.bases] == [("dagster.core:SqlStorage", "dagster.SqlStorage")]


def _changed(root: Path, old: str, new: str) -> Path:
    files = dict(DAGSTER)
    files["dagster/core.py"] = textwrap.dedent(DAGSTER["dagster/core.py"]).replace(old, new)
    return write_tree(root, files)


def test_a_base_the_instance_factory_does_not_build_gains_optional_parameters_freely(trees, tmp_path):
    dagster, ext = trees
    prof = profile_source(str(ext), target="dagster.core:Launcher", dagster_paths=[str(dagster)])
    assert prof.instance_factory is False
    optional = _changed(tmp_path / "opt", "def __init__(self):\n        self._ready", "def __init__(self, *, tags=None):\n        self._ready")
    assert check_profile(prof, snapshot("dagster.core:Launcher", [str(optional)], use_cache=False)) == []
    required = _changed(tmp_path / "req", "def __init__(self):\n        self._ready", "def __init__(self, *, tags):\n        self._ready")
    found = check_profile(prof, snapshot("dagster.core:Launcher", [str(required)], use_cache=False))
    assert [(f.rule, f.member) for f in found] == [("constructor-forwarding-broken", "MyLauncher.__init__")]
    assert "requires `tags`" in found[0].message


def test_a_super_call_landing_beside_the_base_is_not_that_bases_to_break(trees, tmp_path):
    dagster, ext = trees
    write_tree(ext, {"ext/mixed.py": '''
        from dagster.core import Launcher, Storage


        class Mixed(Storage, Launcher):
            def submit(self, context):
                return super().submit(context)
    '''})
    prof = profile_source(str(ext), target="dagster.core:Storage", dagster_paths=[str(dagster)])
    [call] = prof.subclasses["ext.mixed.Mixed"].super_calls
    assert call.beside_base and call.lands_on == "dagster.core.Launcher"
    new = _changed(tmp_path / "new", "    def submit(self, context):\n        return None\n", "")
    assert check_profile(prof, snapshot("dagster.core:Storage", [str(new)], use_cache=False)) == []
    # near miss: against Launcher, the base it lands on, the removed member is reported
    on_launcher = profile_source(str(ext), target="dagster.core:Launcher", dagster_paths=[str(dagster)])
    found = check_profile(on_launcher, snapshot("dagster.core:Launcher", [str(new)], use_cache=False))
    assert ("super-target-missing", "Mixed.submit") in {(f.rule, f.member) for f in found}


def test_release_matching():
    assert downstream.matching_version("dagster-k8s", "1.11.4") == "0.27.4"
    assert downstream.matching_version("dagster-postgres", "1.13.29") == "0.29.29"
    assert downstream.matching_version("dagster-cloud", "1.13.29") == "1.13.29"
    with pytest.raises(CompatError, match="not a 1.x.y release"):
        downstream.matching_version("dagster-k8s", "0+dev")


# --- real wheels from the index ---------------------------------------------------------------
def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compat", *args], capture_output=True, text=True,
                          env={**os.environ, "COMPAT_QUIET": "1", **(env or {})}, stdin=subprocess.DEVNULL,
                          timeout=900)


def test_real_release_is_fetched_once_and_unpacked_by_hash():
    wheel = downstream.fetch("dagster-postgres", "1.11.4")
    assert (wheel.version, wheel.wanted) == ("0.27.4", "0.27.4")
    assert (wheel.tree / "dagster_postgres" / "run_storage" / "run_storage.py").is_file()
    assert wheel.tree.name == wheel.sha256[:32]
    assert downstream.fetch("dagster-postgres", "1.11.4") == wheel
    # the newest release not newer than the one that goes with dagster 1.13.29 (the index may
    # not have 0.29.29 itself)
    newer = downstream.fetch("dagster-postgres", "1.13.29")
    assert newer.wanted == "0.29.29" and newer.version.startswith("0.29.")
    assert tuple(map(int, newer.version.split("."))) <= (0, 29, 29)


@pytest.mark.slow
def test_ecosystem_end_to_end_on_real_wheels(tmp_path):
    # the static check alone: the storages' replay on real servers is tests/test_servers.py's
    cmd = ["ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29",
           "--packages", "dagster-postgres", "dagster-mysql", "dagster-celery", "--fail-on", "breaking",
           "--no-behaviour"]
    proc = _run(*cmd, "--format", "json", "--report", str(tmp_path / "a.json"))
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "a.json").read_text())
    assert set(report) >= {"pairs", "causes", "findings", "summary"}
    pairs = {(p["package"], p["subclass"].rsplit(".", 1)[-1], p["base"].rsplit(":", 1)[-1]): p for p in report["pairs"]}
    assert all(set(p) >= {"package", "version", "subclass", "base", "verdict"} for p in report["pairs"])
    # dagster-mysql's store_asset_event override is no longer reached from SqlEventLogStorage.store_event
    mysql = pairs[("dagster-mysql", "MySQLEventLogStorage", "SqlEventLogStorage")]
    assert (mysql["version"], mysql["verdict"]) == ("0.27.4", "breaking")
    # dagster-postgres overrides store_event itself, so the same change does not reach it
    assert pairs[("dagster-postgres", "PostgresEventLogStorage", "SqlEventLogStorage")]["verdict"] == "compatible"
    assert pairs[("dagster-celery", "CeleryRunLauncher", "RunLauncher")]["verdict"] == "compatible"
    cause = next(c for c in report["causes"] if c["id"] == "dispatch-lost:store_asset_event@SqlEventLogStorage")
    assert cause["affects"]["downstream"] == ["dagster-mysql 0.27.4: MySQLEventLogStorage"]
    assert {p["package"]: p["new_version"] for p in report["packages"]}["dagster-mysql"].startswith("0.29.")

    # a second run reads the cache, and gives the same bytes
    proc = _run(*cmd, "--format", "json", "--report", str(tmp_path / "b.json"))
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()

    md = _run(*cmd, "--format", "markdown")
    assert md.returncode == 1 and len(md.stdout) <= 65536
    assert "| breaking | dagster-mysql 0.27.4 | `dagster_mysql.event_log.event_log.MySQLEventLogStorage`" in md.stdout
    junit = _run(*cmd, "--format", "junit")
    assert 'name="dagster_mysql.event_log.event_log.MySQLEventLogStorage &lt;- ' in junit.stdout


def test_damaged_cache_files_are_refused_in_one_line(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    record = downstream._record_path("dagster-dask", "0.27.4").name
    (cache / "downstream").mkdir()
    (cache / "downstream" / record).write_text(json.dumps(
        {"schema": downstream.WHEEL_SCHEMA, "schema_version": 1, "package": "dagster-dask", "version": 27}))
    proc = _run("ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29", "--packages", "dagster-dask",
                env={"COMPAT_CACHE_DIR": str(cache)})
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert record in line and "version" in line and "Traceback" not in proc.stderr


def test_bad_package_name_is_one_line():
    proc = _run("ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29", "--packages", "not a name")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not a package name" in proc.stderr


# --- the behaviour replay of downstream overrides (dagster-duckdb on DuckDB) -----------------------
def _duckdb_mutant(tmp_path: Path, old: str, new: str) -> str:
    """An interpreter whose dagster is a copy of the installed one with one edit of the database
    IO manager."""
    from compat.tools.mutate import Edit, Mutation, apply, shadowing_python

    edit = Edit("dagster/_core/storage/db_io_manager.py", old, new)
    root = apply(Mutation("duckdb", True, "edited DbIOManager", (edit,)), tmp_path / "mutant")
    return shadowing_python(root, tmp_path)


@pytest.mark.slow
def test_duckdb_overrides_replay_identically_from_1_11_4_to_1_13_29(tmp_path):
    cmd = ["ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29", "--packages", "dagster-duckdb"]
    proc = _run(*cmd, "--format", "json", "--report", str(tmp_path / "a.json"))
    assert proc.returncode == 0, proc.stderr
    pairs = {p["subclass"].rsplit(".", 1)[-1]: p for p in json.loads((tmp_path / "a.json").read_text())["pairs"]}
    assert {k: p["replayed"] for k, p in pairs.items()} == {
        "DuckDbClient": "identical", "DuckDBIOManager": "identical", "DuckDBResource": "identical"}
    proc = _run(*cmd, "--format", "json", "--report", str(tmp_path / "b.json"))  # cached: the same bytes
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    static = _run(*cmd, "--no-behaviour", "--format", "json")
    assert all(p["replayed"] is None for p in json.loads(static.stdout)["pairs"])


@pytest.mark.slow
def test_duckdb_traces_hold_the_dispatches_the_results_and_the_tables():
    from compat import sides
    from compat.tools import ecosystem_replay

    wheel = downstream.fetch("dagster-duckdb", "1.11.4")
    client, factory, resource = ecosystem_replay.record(sides.resolve("installed"), wheel)
    members = {e["member"] for e in client["dispatch"]}
    assert members >= {"connect", "ensure_schema_exists", "delete_table_slice", "get_select_statement"}, members
    assert {e["caller_class"] for e in client["dispatch"]} >= {"DbIOManager"}
    assert all(step["success"] for step in client["result"].values()), client["result"]
    # a partition written twice holds one row: the slice was deleted before the second write
    assert client["state"]["compat.by_letter"] == [[97, "a", "a"], [98, "b", "b"]]
    assert [e["member"] for e in factory["dispatch"]] == ["create_io_manager"] * len(factory["dispatch"])
    assert factory["dispatch"] and resource["result"]["second"]["success"]


@pytest.mark.slow
def test_a_dagster_that_stops_deleting_the_slice_is_a_breaking_pair(tmp_path):
    """Were the comparison blind, an IO manager that no longer deletes a partition before writing
    it again (duplicate rows for every re-run) would pass."""
    python = _duckdb_mutant(tmp_path, "            self._db_client.delete_table_slice(context, table_slice, conn)\n",
                            "            pass\n")
    proc = _run("ecosystem", "--old", "installed", "--new", python, "--packages", "dagster-duckdb", "--format", "json",
                "--fail-on", "breaking")
    assert proc.returncode == 1, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    pairs = {p["subclass"].rsplit(".", 1)[-1]: p for p in report["pairs"]}
    assert pairs["DuckDbClient"]["replayed"] == "diverged" and pairs["DuckDbClient"]["verdict"] == "breaking"
    assert pairs["DuckDBResource"]["replayed"] == "identical"
    cause = next(c for c in report["causes"] if "delete_table_slice" in c["id"])
    [package] = report["packages"]
    assert cause["affects"]["downstream"] == [f"dagster-duckdb {package['version']}: DuckDbClient"], cause
    assert cause["severity"] == "breaking" and "behaviour" in cause["evidence"], cause

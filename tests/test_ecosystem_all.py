"""`compat ecosystem --all`, the shipped package list and its refresh, and sharded runs merged.

The refresh reads a real PEP 691 index served over HTTP on the loopback (a few projects laid out
as the index lays them out); the releases, the dated choice and the sharded run use the real
index and real wheels, on a few packages.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from compat import downstream, sides
from compat.model.errors import CompatError
from compat.tools import ecosystem, shards

SMALL = ["dagster-postgres", "dagster-mysql", "dagster-celery"]


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compat", *args], capture_output=True, text=True,
                          env={**os.environ, "COMPAT_QUIET": "1", **(env or {})}, stdin=subprocess.DEVNULL,
                          timeout=900)


# --- the shipped list -------------------------------------------------------------------------
def test_the_shipped_list_holds_every_dagster_package_once_with_its_scheme():
    listed = downstream.read_list()
    names = [p.name for p in listed.packages]
    assert len(names) >= 100 and names == sorted(names) and len(set(names)) == len(names)
    assert all(downstream.normalize(n) == n for n in names)
    schemes = {p.name: p.release for p in listed.packages}
    assert set(downstream.DEFAULT_PACKAGES) <= set(schemes)  # the 14 of a default run are on it
    assert schemes["dagster-cloud"] == "same" and schemes["dagster-postgres"] == "integration"
    assert "dagster" not in schemes and "dagster-pipes" not in schemes  # dagster's own distributions
    assert {"same", "integration", "dated"} == set(schemes.values())
    # the list's word decides the release: an integration package's is the 0.(minor+16) one
    assert downstream.matching_version("dagster-airbyte", "1.11.4") == "0.27.4"
    assert downstream.matching_version("dagster-cloud-cli", "1.11.4") == "1.11.4"


def test_classify_reads_the_scheme_off_the_newest_release():
    assert downstream.classify("1.13.27", "1.13.29") == "same"
    assert downstream.classify("0.29.27", "1.13.29") == "integration"
    assert downstream.classify("0.4.8", "1.13.29") == "dated"
    assert downstream.classify("0.27.4", "1.13.29") == "dated"  # stopped following dagster two minors ago
    assert downstream.classify("not-a-version", "1.13.29") == "dated"


def test_a_damaged_list_is_refused_in_one_line(tmp_path):
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"schema": downstream.LIST_SCHEMA, "schema_version": 1, "index": "x",
                                "packages": [{"name": "dagster-a", "release": "weekly"}]}))
    with pytest.raises(CompatError, match="packages.0.release") as exc:
        downstream.read_list(path)
    assert "\n" not in str(exc.value)
    path.write_text(json.dumps({"schema": downstream.LIST_SCHEMA, "schema_version": 1, "index": "x",
                                "packages": [{"name": "dagster-a", "release": "dated"},
                                             {"name": "Dagster_A", "release": "dated"}]}))
    with pytest.raises(CompatError, match="listed twice"):
        downstream.read_list(path)


# --- the refresh, against a real index on the loopback ------------------------------------------
def _index_files(root: Path, project: str, files: list[tuple[str, str]]) -> None:
    page = {"meta": {"api-version": "1.1"}, "name": project,
            "files": [{"filename": f, "url": f"../../files/{f}", "hashes": {}, "upload-time": t} for f, t in files]}
    (root / "simple" / project).mkdir(parents=True)
    (root / "simple" / project / "index.json").write_text(json.dumps(page))


class _Simple(http.server.SimpleHTTPRequestHandler):
    """Serves `<dir>/index.json` as the simple JSON API does, with its content type."""

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            index = os.path.join(path, "index.json")
            if os.path.exists(index):
                body = open(index, "rb").read()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return io.BytesIO(body)
        return super().send_head()

    def log_message(self, *args):
        pass


_INDEX_ROOTS: dict[str, Path] = {}  # the served folder of each index fixture


@pytest.fixture
def index(tmp_path):
    root = tmp_path / "index"
    (root / "simple").mkdir(parents=True)
    projects = ["dagster", "dagster-foo", "dagster-cloud", "Dagster_Old", "foo-dagster", "requests", "dagster-gone"]
    (root / "simple" / "index.json").write_text(json.dumps(
        {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in projects]}))
    _index_files(root, "dagster", [("dagster-1.13.28-py3-none-any.whl", "2026-10-01T00:00:00Z"),
                                   ("dagster-1.13.29-py3-none-any.whl", "2026-11-05T00:00:00Z"),
                                   ("dagster-1.14.0rc1-py3-none-any.whl", "2026-11-20T00:00:00Z")])
    _index_files(root, "dagster-foo", [("dagster_foo-0.29.28-py3-none-any.whl", "2026-10-01T00:00:00Z"),
                                       ("dagster_foo-0.29.29.tar.gz", "2026-11-05T00:00:00Z")])
    _index_files(root, "dagster-cloud", [("dagster_cloud-1.13.29-py3-none-any.whl", "2026-11-05T00:00:00Z")])
    _index_files(root, "dagster-old", [("dagster_old-0.3.1-py3-none-any.whl", "2023-01-01T00:00:00Z")])
    _index_files(root, "foo-dagster", [("foo_dagster-2.0.tar.gz", "2026-01-01T00:00:00Z")])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Simple, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/simple"
    _INDEX_ROOTS[url] = root
    yield url
    server.shutdown()
    server.server_close()


def test_refresh_lists_every_project_named_dagster_with_its_scheme(index):
    keep = downstream.PackageList(index="x", packages=[
        downstream.ListedPackage(name="kedro-plugin", release="dated"),  # depends on dagster, named otherwise
        downstream.ListedPackage(name="dagster-retired", release="dated")])  # named dagster: the index decides
    fresh = downstream.refresh_list(index, keep=keep)
    assert [(p.name, p.release) for p in fresh.packages] == [
        ("dagster-cloud", "same"), ("dagster-foo", "integration"), ("dagster-old", "dated"),
        ("foo-dagster", "dated")]  # no kedro-plugin: the index does not have it; dagster-gone has no page
    assert fresh.index == index


def test_an_index_whose_root_listing_is_html_is_read_all_the_same(index):
    """PyPI answers its root listing in HTML (PEP 503) even when the JSON API is asked for; the
    project pages come as JSON. The list is the same as from an index that serves JSON only."""
    json_list = downstream.refresh_list(index)
    served = Path(_INDEX_ROOTS[index]) / "simple"
    projects = json.loads((served / "index.json").read_text())["projects"]
    (served / "index.json").unlink()
    (served / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "".join(
        f'<a href="/simple/{downstream.normalize(p["name"])}/">{p["name"]}</a>\n' for p in projects) + "</body></html>")
    assert downstream.refresh_list(index) == json_list


def test_refresh_writes_a_list_that_reads_back(index, tmp_path):
    fresh = downstream.refresh_list(index)
    path = downstream.write_list(fresh, tmp_path / "packages.json")
    back = downstream.read_list(path)
    assert (back.index, back.packages) == (fresh.index, fresh.packages)
    again = downstream.write_list(downstream.refresh_list(index), tmp_path / "again.json")
    assert path.read_bytes() == again.read_bytes()


class _Flaky(_Simple):
    """An index whose page of one project fails with a server error."""

    def send_head(self):
        if "/dagster-foo/" in self.path:
            self.send_error(503)
            return None
        return super().send_head()


def test_a_project_page_the_index_fails_to_serve_ends_the_refresh_instead_of_dropping_it(index, tmp_path):
    served = tmp_path / "index"  # the fixture's files, served again by a flaky server
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Flaky, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/simple"
        with pytest.raises(CompatError, match="dagster-foo/: the index answered 503") as exc:
            downstream.refresh_list(url)
        assert "\n" not in str(exc.value)
        proc = _run("ecosystem-index", "--refresh", "--index-url", url, "-o", str(tmp_path / "out.json"))
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "503" in proc.stderr
        assert not (tmp_path / "out.json").exists()
    finally:
        server.shutdown()
        server.server_close()


def test_refresh_from_an_index_without_the_json_api_is_one_line(tmp_path):
    proc = _run("ecosystem-index", "--refresh", "--index-url", "http://127.0.0.1:9/simple", "-o",
                str(tmp_path / "out.json"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "cannot reach the index" in proc.stderr
    assert not (tmp_path / "out.json").exists()


# --- sdists: unpacked, never built ----------------------------------------------------------------
def _sdist(path: Path, members: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_an_sdist_is_unpacked_as_a_wheel_lays_out_its_packages(tmp_path):
    archive = _sdist(tmp_path / "ext-1.0.tar.gz", {
        "ext-1.0/setup.py": "raise SystemExit('never run')\n",
        "ext-1.0/src/ext/__init__.py": "",
        "ext-1.0/src/ext/io.py": "from dagster import IOManager\n\n\nclass M(IOManager):\n    pass\n",
        "ext-1.0/tests/__init__.py": ""})
    out = tmp_path / "tree"
    out.mkdir()
    downstream._unpack_sdist(archive, out)
    assert sorted(p.name for p in out.iterdir()) == ["ext"]
    assert (out / "ext" / "io.py").read_text().startswith("from dagster import IOManager")


def test_an_sdist_reaching_outside_its_directory_is_refused(tmp_path):
    archive = _sdist(tmp_path / "evil-1.0.tar.gz", {"evil-1.0/evil/__init__.py": "", "../escape.py": "x = 1\n"})
    out = tmp_path / "tree"
    out.mkdir()
    with pytest.raises(downstream.Unavailable, match="cannot unpack the sdist"):
        downstream._unpack_sdist(archive, out)
    assert not (tmp_path / "escape.py").exists()


# --- releases from the real index -----------------------------------------------------------------
def test_a_dated_package_takes_what_was_released_while_that_dagster_was_the_newest():
    # dagster 1.11.5 was uploaded on 2025-08-07: 1.11.4's users had what was released before
    assert downstream.cutoff("1.11.4").startswith("2025-08-07T")
    wheel = downstream.fetch("dagster-pandera", "1.11.4")  # integration: 0.27.4 as with dagster 1.11.4
    assert wheel.version == "0.27.4"
    dated = downstream.fetch("dagster-polars", "1.11.4")  # on its own schedule (0.27.x since)
    assert dated.wanted == "as of dagster 1.11.4" and dated.version
    assert downstream.fetch("dagster-polars", "1.11.4") == dated  # remembered, asked once


@pytest.mark.slow
def test_a_breaking_pair_whose_newer_release_did_not_follow_says_so():
    """dagster 1.13's UPathIOManager assigns `self._base_path`, which dagster-polars's IO manager
    already uses; its newest release still does (the near miss of dagster-mysql's `followed`)."""
    old, new = sides.resolve("dagster==1.11.4"), sides.resolve("dagster==1.13.29")
    result = ecosystem.run(old, new, ["dagster-polars"], behaviour=False)
    [row] = [p for p in result.pairs if p.verdict == "breaking"]
    assert row.subclass.endswith("BasePolarsUPathIOManager") and row.base.endswith(":UPathIOManager")
    assert row.followed == "not followed" and row.new_version != row.version


def test_a_package_first_released_later_takes_its_first_release_that_admits_the_old_dagster():
    # dagster-authentication was first released in 2026, long after dagster 1.11.4, and admits it
    wheel = downstream.fetch("dagster-authentication", "1.11.4")
    assert downstream.made_for(wheel, "1.11.4") is None
    assert downstream.made_for(wheel, "0.15.0") is not None  # a dagster its requirement excludes


@pytest.mark.slow
def test_a_package_without_a_release_for_that_dagster_is_a_row_under_all_and_fatal_otherwise(tmp_path):
    # dagster-clickhouse follows dagster's integration numbering from a release later than 0.27.4
    old, new = sides.resolve("dagster==1.11.4"), sides.resolve("dagster==1.13.29")
    result = ecosystem.run(old, new, ["dagster-clickhouse", "dagster-celery"], behaviour=False, lenient=True)
    rows = {p["package"]: p for p in result.packages}
    assert "no release not newer than 0.27.4" in rows["dagster-clickhouse"]["unavailable"]
    assert rows["dagster-clickhouse"]["subclasses"] == 0
    assert rows["dagster-celery"]["subclasses"] > 0 and "unavailable" not in rows["dagster-celery"]
    assert {p.package for p in result.pairs} == {"dagster-celery"}
    assert "dagster-clickhouse: unavailable: " in result.render("text")
    assert "1 of 2 packages listed not read" in result.render("json")
    proc = _run("ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29", "--packages",
                "dagster-clickhouse", "--no-behaviour")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "dagster-clickhouse" in proc.stderr


# --- sharded runs ---------------------------------------------------------------------------------
def test_parse_shard_and_select():
    assert shards.parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(Exception, match="K/N"):
            shards.parse_shard(bad)
    items = list("abcdefg")
    parts = [shards.select(items, (k, 3)) for k in (1, 2, 3)]
    assert parts == [["a", "d", "g"], ["b", "e"], ["c", "f"]]


@pytest.mark.slow
def test_a_sharded_ecosystem_run_merges_to_the_unsharded_bytes(tmp_path):
    cmd = ["ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29", "--packages", *SMALL,
           "--no-behaviour"]
    whole = _run(*cmd, "--format", "json", "--fail-on", "never", "--report", str(tmp_path / "whole.json"))
    assert whole.returncode == 0, whole.stderr
    for k in (1, 2):
        proc = _run(*cmd, "--shard", f"{k}/2", "--report", str(tmp_path / f"shard-{k}.json"))
        assert proc.returncode == 0, proc.stderr
    assert len(json.loads((tmp_path / "shard-1.json").read_text())["gathered"]) == 2
    merged = _run("merge", str(tmp_path / "merged.json"), str(tmp_path / "shard-2.json"), str(tmp_path / "shard-1.json"),
                  "--fail-on", "never")
    assert merged.returncode == 0, merged.stderr
    assert (tmp_path / "merged.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    # dagster-mysql's release for dagster 1.13 overrides `_store_asset_event`, the hook the base
    # calls now: it followed the change that breaks its 0.27.4 (each breaking pair says whether)
    report = json.loads((tmp_path / "whole.json").read_text())
    [mysql] = [p for p in report["pairs"] if p["verdict"] == "breaking"]
    assert (mysql["package"], mysql["followed"]) == ("dagster-mysql", "followed")
    assert all("followed" not in p for p in report["pairs"] if p["verdict"] != "breaking")
    # the exit code follows --fail-on as the unsharded run's does (dagster-mysql breaks)
    md = _run("merge", str(tmp_path / "merged.md"), str(tmp_path / "shard-1.json"), str(tmp_path / "shard-2.json"),
              "--format", "markdown")
    assert md.returncode == 1 and "MySQLEventLogStorage" in (tmp_path / "merged.md").read_text()

    # a missing shard, a shard given twice, a shard of another run, a damaged one: one line, exit 2
    other = _run("ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29", "--packages", "dagster-celery",
                 "--no-behaviour", "--shard", "1/2", "--report", str(tmp_path / "other.json"))
    assert other.returncode == 0, other.stderr
    damaged = tmp_path / "damaged.json"
    data = json.loads((tmp_path / "shard-2.json").read_text())
    data["gathered"][0]["found"] = "many"
    damaged.write_text(json.dumps(data))
    for shard_files, says in ((["shard-1.json"], "shard(s) 2/2 missing"),
                              (["shard-1.json", "shard-1.json"], "shard 1/2 again"),
                              (["shard-2.json", "other.json"], "a shard of another run"),
                              (["shard-1.json", "damaged.json"], "found"),
                              (["whole.json"], "not a shard")):
        proc = _run("merge", str(tmp_path / "out.json"), *[str(tmp_path / s) for s in shard_files])
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and says in proc.stderr, (shard_files, proc.stderr)
        assert not (tmp_path / "out.json").exists()


def test_the_index_command_prints_the_list_and_all_refuses_packages_beside_it():
    proc = _run("ecosystem-index")
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and len(rows) == len(downstream.read_list().packages)
    assert ["dagster-cloud", "same"] in rows and all(r[1] in downstream.SCHEMES for r in rows)
    both = _run("ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29", "--all", "--packages", "dagster-k8s")
    assert both.returncode == 2 and both.stderr.count("\n") == 1 and "leave out --packages" in both.stderr
    shard = _run("ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29", "--shard", "3/2")
    assert shard.returncode == 2 and "K/N" in shard.stderr

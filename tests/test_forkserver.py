"""Warmed workers: behaviour and fuzz workers forked from one interpreter that imported dagster
once are the workers they would have been had each started alone, and die like them."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from compat import channel, tempdirs
from compat.behaviour import replay
from compat.fuzz import differential
from compat.forkserver import ForkServer
from compat.model.errors import CompatError

CELLS = replay.plan_cells(["spy", "base"], ["runs_create_run_direct", "events_logging"], ["memory", "sqlite"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def server():
    srv = ForkServer(sys.executable, replay.MODULE, name="behaviour worker")
    yield srv
    srv.close()


def test_forked_workers_are_processes_of_their_own_with_the_traces_of_workers_started_alone(server):
    forks = [replay.Worker(sys.executable, server=server.path) for _ in range(2)]
    alone = replay.Worker(sys.executable)
    try:
        pids = {w.proc.pid for w in forks}
        assert len(pids) == 2 and server.proc.pid not in pids
        assert all(w.hello["forked_from"] == server.proc.pid for w in forks)
        assert "forked_from" not in alone.hello
        assert len({w.home for w in forks + [alone, server]}) == 4  # a home and a log each
        for i, cell in enumerate(CELLS):
            forked = forks[i % 2].run(cell)
            assert json.dumps(forked, sort_keys=True) == json.dumps(alone.run(cell), sort_keys=True), cell
    finally:
        for w in forks + [alone]:
            w.close()
    assert all(_gone(pid) for pid in pids)
    assert not any(Path(w.home).exists() for w in forks)


def test_a_killed_fork_is_a_crash_and_the_server_forks_the_next_one(server):
    worker = replay.Worker(sys.executable, server=server.path)
    os.kill(worker.proc.pid, signal.SIGKILL)
    with pytest.raises(CompatError, match="behaviour worker .* (crashed|died) .*cell"):
        worker.run(CELLS[0])
    assert not Path(worker.home).exists()
    again = replay.Worker(sys.executable, server=server.path)
    try:
        assert again.run(CELLS[0])["cell"] == CELLS[0]
    finally:
        again.close()


@pytest.mark.parametrize("forked", [False, True], ids=["alone", "forked"])
def test_a_cell_makes_its_instance_in_the_workers_home_and_a_killed_worker_leaves_none(server, forked, monkeypatch):
    """The worker's TMPDIR is a folder of its home, so the sqlite files of a cell killed halfway
    go when the home does (they stayed in the temp dir before); with no temp dir named, homes
    are on the RAM-backed temp dir where the system has one with room."""
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    worker = replay.Worker(sys.executable, server=server.path if forked else None)
    assert Path(worker.home).parent == Path(tempdirs.worker_root() or tempfile.gettempdir())
    cell = {"subclass": "spy", "scenario": "runs_create_run_direct", "storage": "sqlite"}
    running = threading.Thread(target=lambda: pytest.raises(CompatError, worker.run, cell), daemon=True)
    running.start()
    deadline, made = time.monotonic() + 60, []
    while not made and time.monotonic() < deadline:
        made = list((Path(worker.home) / "tmp").glob("compat-cell-*/home"))
        time.sleep(0.005)
    assert made, "the cell made its instance outside the worker's home"
    os.kill(worker.proc.pid, signal.SIGKILL)
    running.join(60)
    worker.close()
    assert not Path(worker.home).exists() and not made[0].exists()


def test_worker_homes_go_on_a_ram_temp_dir_only_with_room_and_no_temp_dir_named(tmp_path, monkeypatch):
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempdirs, "RAM_TMP", str(tmp_path))
    assert tempdirs.worker_root() == str(tmp_path)
    home = tempdirs.worker_home()
    assert home.parent == tmp_path and (home / "tmp").is_dir()
    monkeypatch.setattr(tempdirs, "RAM_TMP_MIN_FREE", 1 << 62)  # a container's small /dev/shm
    assert tempdirs.worker_root() is None
    monkeypatch.setattr(tempdirs, "RAM_TMP_MIN_FREE", 0)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "mine"))
    assert tempdirs.worker_root() is None  # the user's temp dir stands
    monkeypatch.setattr(tempdirs, "RAM_TMP", str(tmp_path / "none-here"))
    monkeypatch.delenv("TMPDIR")
    assert tempdirs.worker_root() is None


def test_a_hung_fork_is_killed_with_its_session(server, tmp_path):
    worker = replay.Worker(sys.executable, server=server.path)
    pid = worker.proc.pid
    os.kill(pid, signal.SIGSTOP)  # hangs: answers nothing
    with pytest.raises(CompatError, match="hung during cell"):
        worker.run(CELLS[0], timeout=1.0)
    assert _gone(pid)
    assert server.proc.poll() is None  # the server serves on


def test_closing_the_server_ends_it_and_its_forks_end_with_their_connections():
    srv = ForkServer(sys.executable, replay.MODULE, name="behaviour worker")
    worker = replay.Worker(sys.executable, server=srv.path)
    srv.close()
    assert _gone(srv.proc.pid) and not Path(srv.home).exists()
    assert worker.run(CELLS[0])["cell"] == CELLS[0]  # a fork needs no server once it runs
    pid = worker.proc.pid
    worker.close()
    assert _gone(pid)
    with pytest.raises(CompatError, match="cannot start a behaviour worker with the fork server"):
        replay.Worker(sys.executable, server=srv.path)


def test_a_fuzz_worker_forks_from_the_behaviour_server_and_runs_a_program_as_one_started_alone(server):
    program = [{"name": "add_run", "args": {"job": "job_a", "tags": {"a": "1"}, "status": "QUEUED"}},
               {"name": "get_runs_count", "args": {"job": "job_a", "tags": {}}},
               {"name": "materialize", "args": {"asset": "a", "partition": None}},
               {"name": "asset_keys", "args": {}}]
    results = []
    for worker in (differential.FuzzWorker(sys.executable, "forked", server=server.path),
                   differential.FuzzWorker(sys.executable, "alone")):
        try:
            worker.request({"op": "begin", "subclass": "spy", "storage": "memory"}, 60, "begin")
            results.append([worker.request({"op": "step", **step}, 60, "step")["result"] for step in program])
            worker.request({"op": "end"}, 60, "end")
            results.append(worker.hello.get("forked_from"))
        finally:
            worker.close()
    assert results[0] == results[2] and results[1] == server.proc.pid and results[3] is None


def test_recording_through_a_server_gives_the_reach_lines_of_workers_started_alone(monkeypatch):
    forked: dict = {}
    traces = replay.run_cells(sys.executable, CELLS, jobs=2, reach=forked)
    monkeypatch.setattr(replay, "fork_server", lambda *a, **k: None)
    alone: dict = {}
    assert replay.run_cells(sys.executable, CELLS, jobs=2, reach=alone) == traces
    assert forked["cells"] == alone["cells"] and forked["startup"] == alone["startup"]
    assert any(forked["cells"]) and forked["startup"]


def test_workers_keep_their_bytecode_in_the_cache_never_beside_the_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPAT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # the user's choice, for the user's trees
    monkeypatch.setattr(channel, "_SWEPT", [])
    gone = tmp_path / "cache" / "bytecode" / Path(tempfile.gettempdir()).resolve().relative_to("/")
    (gone / "compat-mutant-long-gone" / "dagster").mkdir(parents=True)
    import dagster

    sources = Path(dagster.__file__).parent
    caches_before = sorted(sources.rglob("*.pyc"))
    worker = replay.Worker(sys.executable)
    try:
        worker.run(CELLS[0])
    finally:
        worker.close()
    assert sorted(sources.rglob("*.pyc")) == caches_before
    mirror = tmp_path / "cache" / "bytecode" / Path(dagster.__file__).parent.relative_to("/")
    assert any(mirror.glob("__init__.*.pyc"))
    assert not (gone / "compat-mutant-long-gone").exists()


def test_a_cells_harness_lines_do_not_depend_on_what_its_worker_ran_before():
    """The harness's own lines a cell runs are the cell's: run in another order (so each worker
    meets other cells first) every cell records the same ones. A first cell used to carry the
    worker's own start-up code, the recorder's audit hook for every file imported, and the spy
    class built for its subclass. (dagster's lines may differ: its lazy caches fill in whichever
    cell comes first, which the reach map treats as state, see docs/change-aware-replay.md.)"""
    def harness(reach: dict) -> list:
        return [{f: lines for f, lines in cell.items() if f.startswith("compat/")} for cell in reach["cells"]]

    first: dict = {}
    replay.run_cells(sys.executable, CELLS, jobs=2, reach=first)
    again: dict = {}
    replay.run_cells(sys.executable, list(reversed(CELLS)), jobs=2, reach=again)
    assert list(reversed(harness(again))) == harness(first) and any(any(c.values()) for c in harness(first))

"""The real database servers the storage replay starts (compat.servers), and the replay of
dagster-postgres's and dagster-mysql's storages on them (compat.tools.ecosystem_replay).

Real PostgreSQL and MariaDB from Debian's packages (`make servers`, which `make test` runs first):
nothing here is skipped when they are missing, it fails and says how to install them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from compat import servers, tempdirs
from compat.model.errors import CompatError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for every purpose here (its parent, the test, has not reaped it)
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _own_server_dirs() -> list[Path]:
    """The server directories this process made that are still there (other tests' are not)."""
    root = Path(tempdirs.worker_root() or tempfile.gettempdir())
    mine = []
    for path in root.glob(servers.PREFIX + "*"):
        try:
            if int((path / tempdirs.OWNER).read_text()) == os.getpid():
                mine.append(path)
        except (OSError, ValueError):
            continue
    return mine


def _tcp_listeners(pid: int) -> set[str]:
    """The socket inodes of `pid` that listen on TCP (IPv4 or IPv6), read from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    listening = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                listening.add(fields[9])
    return inodes & listening


def _gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("kind", servers.KINDS)
def test_a_server_runs_on_its_own_socket_and_leaves_nothing(kind):
    with servers.STARTERS[kind]() as server:
        root, pid = server.root, server.proc.pid
        assert _alive(pid) and server in tempdirs.LIVE
        assert server.socket.exists() and str(server.socket).startswith(str(root))
        assert f"{server.socket}" in server.url()
        # no TCP: a socket in the temp dir is the only way in
        assert not _tcp_listeners(pid)
        if os.geteuid() == 0:  # the servers refuse root: they run as the unprivileged user
            assert Path(f"/proc/{pid}").stat().st_uid != 0
    assert _gone(pid) and not root.exists() and server not in tempdirs.LIVE and not _own_server_dirs()


def test_a_failed_start_is_one_line_and_leaves_nothing(monkeypatch):
    monkeypatch.setattr(servers, "find", lambda kind: {"initdb": "/bin/true", "postgres": "/bin/false"})
    with pytest.raises(CompatError) as exc:
        with servers.postgres():
            pass
    assert "postgres exited at start" in str(exc.value) and "\n" not in str(exc.value)
    assert not _own_server_dirs()  # this process's directory went with the failed start


def test_an_unknown_server_is_one_line():
    with pytest.raises(CompatError, match="unknown server 'oracle'"):
        servers.find("oracle")


_HOLDER = textwrap.dedent("""
    import sys, time
    from compat import servers, signals
    signals.install()
    with servers.STARTERS[sys.argv[1]]() as s:
        print(s.proc.pid, s.root, flush=True)
        time.sleep(600)
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_no_server_outlives_an_interrupted_or_killed_run(sig, tmp_path):
    """SIGTERM (a CI timeout) and SIGINT stop the server and remove its dir; SIGKILL runs no
    clean-up, and the server still dies with the run (the next run sweeps the dir)."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, servers.POSTGRES], stdout=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        pid_text, root_text = proc.stdout.readline().split()
        pid, root = int(pid_text), Path(root_text)
        assert _alive(pid)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert _gone(pid), f"the server {pid} outlived the run after {sig.name}"
        if sig == signal.SIGKILL:
            assert root.exists()  # nothing could clean up...
            tempdirs.sweep(servers.PREFIX, root.parent)  # ...and the next run sweeps it
        assert not root.exists()
    finally:
        proc.kill()
        proc.wait()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compat", *args], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "COMPAT_QUIET"}, stdin=subprocess.DEVNULL,
                          timeout=1800)


@pytest.mark.slow
def test_postgres_and_mysql_storages_replay_on_real_servers_and_show_the_mysql_break(tmp_path):
    """dagster-postgres's and dagster-mysql's run, event-log and schedule storages (their 0.27.4
    release on both sides) driven through the instance's storage scenarios on dagster 1.11.4 and
    1.13.29: the override of `store_asset_event` that 1.13.29's `store_event` no longer calls is
    seen by behaviour, joins the static cause, and its witness is the replayed cell."""
    from compat import downstream, sides
    from compat.tools import ecosystem_replay

    # the servers run in this test whatever an earlier run cached: its traces are recorded anew
    for package in ("dagster-postgres", "dagster-mysql"):
        wheel = downstream.fetch(package, "1.11.4")
        for side in ("dagster==1.11.4", "dagster==1.13.29"):
            ecosystem_replay.cache_path(sides.resolve(side), wheel).unlink(missing_ok=True)
    cmd = ["ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29",
           "--packages", "dagster-postgres", "dagster-mysql", "--format", "json", "--fail-on", "never"]
    proc = _run(*cmd, "--report", str(tmp_path / "a.json"))
    assert "starting mariadb" in proc.stderr and "starting postgres" in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "a.json").read_text())
    replayed = {(p["package"], p["subclass"].rsplit(".", 1)[-1]): p for p in report["pairs"] if p["replayed"]}
    assert sorted(replayed) == [
        ("dagster-mysql", "MySQLEventLogStorage"), ("dagster-mysql", "MySQLRunStorage"),
        ("dagster-mysql", "MySQLScheduleStorage"), ("dagster-postgres", "PostgresEventLogStorage"),
        ("dagster-postgres", "PostgresRunStorage"), ("dagster-postgres", "PostgresScheduleStorage")]
    mysql_events = replayed[("dagster-mysql", "MySQLEventLogStorage")]
    assert mysql_events["replayed"] == "diverged" and mysql_events["verdict"] == "breaking", mysql_events
    assert replayed[("dagster-mysql", "MySQLRunStorage")]["replayed"] == "identical"
    cause = next(c for c in report["causes"] if c["id"].startswith("dispatch-lost:store_asset_event"))
    assert cause["severity"] == "breaking" and "behaviour" in cause["evidence"], cause
    assert cause["affects"]["downstream"] == ["dagster-mysql 0.27.4: MySQLEventLogStorage"], cause
    behaviour = [f for f in report["findings"] if f["source"] == "behaviour" and "MySQLEventLogStorage" in f["member"]]
    assert any("`store_asset_event` is no longer dispatched" in f["message"] for f in behaviour), behaviour
    assert cause["witness"]["proves"] == "runtime" and "--packages dagster-mysql" in cause["witness"]["code"]
    # every breaking cause a replayed pair shows carries a witness that ran
    replay_causes = [c for c in report["causes"] if c["severity"] == "breaking" and "behaviour" in c["evidence"]]
    assert all(c["witness"] and c["witness"]["proves"] == "runtime" for c in replay_causes), replay_causes
    # the traces are cached per side: a second run reads them and writes the same bytes
    proc = _run(*cmd, "--report", str(tmp_path / "b.json"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_the_test_command_installs_the_servers_as_it_installs_chromium():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text().splitlines()
    test_line = next(line for line in makefile if line.startswith("test:"))
    assert "servers" in test_line.split() and "browser" in test_line.split()
    recipe = subprocess.run(["make", "-n", "-B", "servers"], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parent.parent).stdout
    assert "apt-get install" in recipe and "postgresql mariadb-server" in recipe

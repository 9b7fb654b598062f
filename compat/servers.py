"""Real database servers for the ecosystem's storage replay: PostgreSQL and MariaDB, each started
by the harness for one run, in a temp dir of its own, on a local unix socket only.

dagster-postgres and dagster-mysql subclass dagster's run, event-log and schedule storages; their
overrides only run against the real server (its SQL dialect, its upserts, its migrations), so the
replay needs one. No system service is used or touched: the server binaries Debian's packages
install (`make servers`) are run directly, the data directory and the socket live in a
``compat-server-*`` temp dir (RAM-backed where there is room), TCP is off
(``listen_addresses=''``, ``--skip-networking``), and clients connect through the socket with
the server's own superuser and no password.

Nothing is left running after a run:

* :func:`postgres` and :func:`mariadb` are context managers: leaving them (normally, by an
  exception, by Ctrl-C or by the SIGTERM that :mod:`compat.signals` turns into an exception)
  stops the server and removes its directory;
* each server is registered in :data:`compat.tempdirs.LIVE`, so the interrupt handlers that stop
  the run's workers stop it too;
* the server is the harness's own child (no ``pg_ctl`` or ``mysqld_safe`` daemonizing it) and gets
  SIGKILL when the harness dies (``setpriv --pdeathsig``): a SIGKILLed run leaves no server, and
  the next run sweeps its directory (:func:`compat.tempdirs.make`).

PostgreSQL and MariaDB refuse to run as root. When the harness runs as root (CI machines,
containers) the servers run as the unprivileged ``nobody`` user: the temp dir is handed to it and
``setpriv`` drops to it before the server starts; the socket stays reachable by root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from compat import tempdirs
from compat.model.errors import CompatError

PREFIX = "compat-server-"
POSTGRES = "postgres"
MARIADB = "mariadb"
KINDS = (POSTGRES, MARIADB)
START_TIMEOUT = 60.0  # seconds for a server to become ready
STOP_TIMEOUT = 30.0  # seconds for a clean shutdown before SIGKILL
UNPRIVILEGED = "nobody"  # the user the servers run as when the harness is root
DATABASE = "compat"
INSTALL_HINT = "run `make servers` (Debian's postgresql and mariadb-server packages)"


@dataclass(eq=False)  # hashable by identity: it goes in tempdirs.LIVE
class Server:
    """One running server: its kind, its temp dir, and how a client reaches it."""

    kind: str
    root: Path
    socket: Path  # PostgreSQL: the socket's directory; MariaDB: the socket file
    proc: subprocess.Popen
    log: Path
    version: str = ""
    _stopped: bool = field(default=False, repr=False)

    def url(self, database: str = DATABASE) -> str:
        """The SQLAlchemy URL of `database` on this server, as the storages' config takes it."""
        if self.kind == POSTGRES:
            return f"postgresql+psycopg2://{POSTGRES}@/{database}?host={self.socket}"
        return f"mysql+mysqlconnector://root@localhost/{database}?unix_socket={self.socket}"

    def kill(self) -> None:
        """Stop at once (an interrupt's clean-up): SIGKILL, wait, no directory removal here."""
        _signal(self.proc, signal.SIGKILL)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def stop(self) -> None:
        """A clean shutdown (fast for PostgreSQL, normal for MariaDB), SIGKILL if it hangs."""
        if self._stopped:
            return
        self._stopped = True
        tempdirs.untrack(self)
        if self.proc.poll() is None:
            _signal(self.proc, signal.SIGINT if self.kind == POSTGRES else signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        # a server's own helpers share its session: none outlives it
        _signal(self.proc, signal.SIGKILL, group=True)


def _signal(proc: subprocess.Popen, sig: int, group: bool = False) -> None:
    try:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def find(kind: str) -> dict[str, str]:
    """The server's programs, from PATH or where Debian's packages put them; a one-line error
    naming the install step when they are missing."""
    if kind == POSTGRES:
        names = ("initdb", "postgres")
        dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    elif kind == MARIADB:
        names = ("mariadb-install-db", "mariadbd")
        dirs = ["/usr/sbin", "/usr/bin"]
    else:
        raise CompatError(f"unknown server {kind!r} (expected {' or '.join(KINDS)})")
    found = {}
    for name in names:
        path = next((p for p in [*(os.path.join(d, name) for d in dirs), shutil.which(name)]
                     if p and os.access(p, os.X_OK)), None)
        if path is None:
            raise CompatError(f"{kind}: `{name}` is not installed; {INSTALL_HINT}")
        found[name] = path
    if kind == POSTGRES and Path(found["initdb"]).parent != Path(found["postgres"]).parent:
        # a PATH wrapper and the packaged server may be of two releases: take the pair beside postgres
        sibling = Path(found["postgres"]).resolve().parent / "initdb"
        if sibling.exists():
            found["initdb"] = str(sibling)
    return found


def _version_key(path: str) -> tuple:
    part = Path(path).parent.name
    return (int(part),) if part.isdigit() else (0,)


def _as_server_user(root: Path) -> tuple[list[str], dict[str, str]]:
    """The command prefix that runs a server program (dies with the harness; as `nobody` when
    the harness is root, owning `root`), and its environment."""
    prefix = ["setpriv", "--pdeathsig", "KILL"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC", "HOME": str(root)}
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(UNPRIVILEGED)
        except KeyError:
            raise CompatError(f"running as root, and there is no `{UNPRIVILEGED}` user to run the database "
                              "servers as (they refuse root)") from None
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.chown(name, user.pw_uid, user.pw_gid)
        prefix += ["--reuid", str(user.pw_uid), "--regid", str(user.pw_gid), "--clear-groups"]
    if shutil.which("setpriv") is None:
        raise CompatError("`setpriv` (util-linux) is needed to start the database servers")
    return prefix, env


def _run(cmd: list[str], env: dict[str, str], what: str, cwd: Path) -> None:
    try:
        proc = tempdirs.run(cmd, timeout=START_TIMEOUT * 2, capture_output=True, text=True, env=env, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise CompatError(f"{what} did not finish in {START_TIMEOUT * 2:.0f}s") from None
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout or "").strip().splitlines()
        raise CompatError(f"{what} failed (exit {proc.returncode}): {last[-1] if last else 'no output'}")


def _start(kind: str, root: Path, cmd: list[str], env: dict[str, str], socket: Path, log: Path,
           ready) -> Server:
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=root, start_new_session=True)
    server = Server(kind, root, socket, proc, log)
    tempdirs.track(server)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while not ready():
            if proc.poll() is not None:
                raise CompatError(f"{kind} exited at start (status {proc.returncode}): {_last_line(log)}")
            if time.monotonic() > deadline:
                raise CompatError(f"{kind} was not ready after {START_TIMEOUT:.0f}s: {_last_line(log)}")
            time.sleep(0.05)
    except BaseException:
        server.stop()
        raise
    return server


def _last_line(log: Path) -> str:
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip() if lines else "no log"


@contextmanager
def _server_dir(kind: str) -> Iterator[Path]:
    # RAM-backed where there is room (compat.tempdirs.worker_root): the servers' data is a
    # run's scratch, and a disk's fsyncs made each table a MariaDB cell creates cost a second
    root = tempdirs.make(f"{PREFIX}{kind}-", tempdirs.worker_root())
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres() -> Iterator[Server]:
    """A PostgreSQL server of its own in a temp dir (initdb, then the postmaster in the
    foreground), superuser `postgres` trusted on the socket, database `compat` created empty."""
    progs = find(POSTGRES)
    with _server_dir(POSTGRES) as root:
        data, sock, log = root / "data", root / "sock", root / "server.log"
        sock.mkdir()
        prefix, env = _as_server_user(root)
        _run([*prefix, progs["initdb"], "-D", str(data), "-U", POSTGRES, "--auth=trust", "--encoding=UTF8",
              "--locale=C", "--no-sync"], env, "initdb", root)
        pid_file = data / "postmaster.pid"

        def ready() -> bool:  # the postmaster writes "ready" as its pid file's status line
            try:
                return "ready" in pid_file.read_text().splitlines()[7:8][0]
            except (OSError, IndexError):
                return False

        cmd = [*prefix, progs["postgres"], "-D", str(data), "-k", str(sock), "-c", "listen_addresses=",
               "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
               "-c", "max_connections=50", "-c", "unix_socket_permissions=0777",
               # dynamic shared memory as files in the data dir, not /dev/shm: a killed server's go with its dir
               "-c", "dynamic_shared_memory_type=mmap"]
        server = _start(POSTGRES, root, cmd, env, sock, log, ready)
        try:
            server.version = (data / "PG_VERSION").read_text().strip()
            yield server
        finally:
            server.stop()


@contextmanager
def mariadb() -> Iterator[Server]:
    """A MariaDB server of its own in a temp dir (mariadb-install-db, then mariadbd in the
    foreground), `root` without a password on the socket, no networking."""
    progs = find(MARIADB)
    with _server_dir(MARIADB) as root:
        data, log = root / "data", root / "server.log"
        sock = root / "mysql.sock"
        prefix, env = _as_server_user(root)
        common = ["--no-defaults", f"--datadir={data}"]
        user = ["--user=" + UNPRIVILEGED] if os.geteuid() == 0 else []
        _run([*prefix, progs["mariadb-install-db"], *common, *user, "--auth-root-authentication-method=normal",
              "--skip-test-db", "--skip-name-resolve"], env, "mariadb-install-db", root)
        cmd = [*prefix, progs["mariadbd"], *common, *user, f"--socket={sock}", "--skip-networking",
               f"--pid-file={root / 'mariadbd.pid'}", f"--log-error={log}", "--skip-name-resolve",
               "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--skip-log-bin",
               "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"]

        def ready() -> bool:
            try:
                return sock.exists() and "ready for connections" in log.read_text(errors="replace")
            except OSError:
                return False

        server = _start(MARIADB, root, cmd, env, sock, log, ready)
        try:
            yield server
        finally:
            server.stop()


STARTERS = {POSTGRES: postgres, MARIADB: mariadb}

__all__ = ["DATABASE", "KINDS", "MARIADB", "POSTGRES", "STARTERS", "Server", "find", "mariadb", "postgres"]

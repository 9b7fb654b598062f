"""A fork server: one worker interpreter imports dagster and warms up once, and the behaviour
workers of a run are forks of it, so N workers (the ``-j`` workers of a record or replay, the
xdist workers of the gate) pay one start-up instead of N.

Worker side, ``python -m compat.forkserver SOCKET MODULE``: binds SOCKET before importing
anything heavy (so a client may connect while dagster is still importing; it waits in the
backlog), calls ``MODULE.prepare()``, says hello on stdout like any worker, then forks one child
per connection. The parent's first line on a connection names the child's worker module, temp
home and log; the child takes the connection as its stdin and stdout, that home as HOME,
DAGSTER_HOME and working directory, that log as stderr, starts a session of its own and runs
``WORKER.serve_forked(prepared)``: from there on it is the worker it would have been had it
started alone, after the same start-up (one server serves the behaviour and the fuzz workers).
The server exits when its stdin closes (its parent closed it or died); a child exits when its
connection closes. Standard library and compat.channel only.

Parent side: :class:`ForkServer` starts one; ``WorkerProcess(..., server=...)`` connects to it
instead of starting an interpreter (:meth:`compat.channel.WorkerProcess`).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import tempfile
from pathlib import Path

from compat import tempdirs
from compat.channel import START_TIMEOUT, WorkerProcess

MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 108 bytes on Linux, fewer elsewhere


# --- parent side ---------------------------------------------------------------------------------
class ForkServer(WorkerProcess):
    """A fork server on ``python`` for the worker ``module``; ``path`` is its socket, which any
    process of this run may connect to (the gate passes it to its xdist workers). ``name`` is
    the workers' name: a server that cannot start is a worker that cannot start."""

    def __init__(self, python: str, module: str, *, name: str, extra_env: dict[str, str] | None = None,
                 start_timeout: float = START_TIMEOUT, home: Path | None = None) -> None:
        home = home or tempdirs.worker_home()
        self.path = socket_path(home)
        super().__init__(python, "compat.forkserver", name=name, args=(self.path, module),
                         start_timeout=start_timeout, extra_env=extra_env, home=home)


def socket_path(home: Path) -> str:
    return str(Path(home) / "fork.sock")


def usable() -> bool:
    """Whether a fork server can run here: fork() exists and its socket's path in the temp dir
    fits an AF_UNIX address (a long TMPDIR falls back to workers started one by one)."""
    probe = Path(tempdirs.worker_root() or tempfile.gettempdir()) / "compat-worker-xxxxxxxx" / "fork.sock"
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and len(str(probe)) <= MAX_SOCKET_PATH


# --- worker side ---------------------------------------------------------------------------------
def _child(conn: socket.socket, listener: socket.socket, server_send, prepared) -> None:
    """In the forked child: become a worker of its own on the connection, then exit."""
    code = 1
    try:
        listener.close()
        server_send.stream.close()  # the server's channel: its parent must see it close with the server
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server ignores it; the cells' subprocesses need it
        os.setsid()
        setup = json.loads(conn.makefile("rb", buffering=0).readline() or b"{}")
        home = setup["home"]
        os.environ.update({"HOME": home, "DAGSTER_HOME": os.path.join(home, "dagster_home"),
                           "TMPDIR": os.path.join(home, "tmp")})
        tempfile.tempdir = None  # the server's was cached while it warmed up
        os.chdir(home)
        log = os.open(setup["log"], os.O_WRONLY | os.O_APPEND)
        os.dup2(log, 2)
        os.close(log)
        os.dup2(conn.fileno(), 0)
        os.dup2(conn.fileno(), 1)
        conn.close()
        sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
        code = importlib.import_module(setup["module"]).serve_forked(prepared)
    except BaseException:  # noqa: BLE001 - the parent sees the closed connection and the log
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code or 0)


def main() -> int:
    path, module_name = sys.argv[1], sys.argv[2]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    from compat.channel import serve

    send = serve()
    prepared = importlib.import_module(module_name).prepare()
    send({"hello": True, "fork_server": True, "dagster_version": prepared.get("dagster_version", "?"),
          "pid": os.getpid()})
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they exit
    gc.collect()
    gc.freeze()  # what dagster's import made stays shared: a child's collections skip it, not copy it
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    while True:
        for key, _ in sel.select():
            if key.data == "stdin":
                if sys.stdin.readline() in ("", '{"op": "exit"}\n'):
                    listener.close()
                    return 0
                continue
            conn, _ = listener.accept()
            if os.fork() == 0:
                sel.close()
                _child(conn, listener, send, prepared)
            conn.close()


if __name__ == "__main__":
    sys.exit(main())

"""JSON-lines channel between the harness and its worker interpreters (behaviour, fuzz, perf).

Both ends live here so the three workers share one protocol and one failure model: a worker
runs `python -m compat.<module>` on the interpreter of the dagster under test, says hello with
its dagster version, then answers one line per request. A worker that hangs, crashes, writes
garbage or cannot start is a CompatError naming the worker and what it was doing, never a
silent pass. This module imports only the standard library and compat.model.errors, so it loads in
any dagster's environment.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from compat import tempdirs
from compat.model.errors import CompatError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 180.0  # seconds for a worker to import dagster and say hello
BIND_WAIT = 5.0  # seconds a fork server just started may take to bind its socket


# --- parent side ---------------------------------------------------------------------------------
_SWEPT: list[str] = []


def bytecode_cache() -> str:
    """Where worker interpreters write the bytecode of what they import: a mirror of the source
    tree under the cache (``PYTHONPYCACHEPREFIX``), never a ``__pycache__`` in a user's venv, a
    checkout or a dagster env, and a worker's start-up compiles nothing the last one compiled
    (importing dagster takes half the time). Mirrors of temp trees that are gone (mutants, edited
    copies) are removed the first time a run asks."""
    from compat import envs  # parent side only: envs needs the harness's own dependencies

    prefix = envs.cache_dir() / "bytecode"
    if not _SWEPT:
        _SWEPT.append(str(prefix))
        tmp = Path(tempfile.gettempdir()).resolve()
        mirror = prefix / tmp.relative_to(tmp.anchor)
        try:
            stale = [m for m in mirror.iterdir() if not (tmp / m.name).exists()]
        except OSError:
            stale = []
        for m in stale:
            shutil.rmtree(m, ignore_errors=True)
    return str(prefix)

def _worker_overlay(python: str) -> list[str]:
    from compat import envs  # the parent side only: a worker never starts workers

    return envs.worker_overlay(python)


class WorkerProcess:
    """`python -m MODULE [ARGS]` in a temp HOME and DAGSTER_HOME of its own, in its own session;
    with ``server`` (a fork server's socket, :mod:`compat.forkserver`), a fork of that warmed
    interpreter instead, with a home, a log and a session of its own all the same."""

    def __init__(self, python: str, module: str, *, name: str, args: tuple[str, ...] = (),
                 start_timeout: float = START_TIMEOUT, extra_env: dict[str, str] | None = None,
                 home: Path | None = None, server: str | None = None) -> None:
        self.python, self.name = python, name
        self.home = str(home or tempdirs.worker_home())
        self.log_path = os.path.join(self.home, "worker.log")
        env = dict(os.environ)
        env.pop("PYTHONSTARTUP", None)
        env.update({
            # the harness's code, and what its workers import that ``python`` lacks (coverage)
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), *_worker_overlay(python)]),
            "DAGSTER_HOME": os.path.join(self.home, "dagster_home"),
            "HOME": self.home,  # dagster writes ~/.dagster/.telemetry whatever DAGSTER_HOME says
            "TMPDIR": os.path.join(self.home, "tmp"),  # the cells' instances go with the home
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONPYCACHEPREFIX": bytecode_cache(),
            **(extra_env or {}),
        })
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # the prefix keeps the bytecode out of every tree
        os.makedirs(env["DAGSTER_HOME"])
        os.makedirs(env["TMPDIR"], exist_ok=True)
        self._log = open(self.log_path, "w", encoding="utf-8")
        try:
            if server is not None:
                self.proc: Any = Forked(server, module, self.home, self.log_path, start_timeout)
            else:
                self.proc = subprocess.Popen(
                    [python, "-m", module, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                    text=True, encoding="utf-8", bufsize=1, env=env, cwd=self.home, start_new_session=True,
                )
        except OSError as exc:
            self._log.close()
            shutil.rmtree(self.home, ignore_errors=True)
            how = f"the fork server at {server}" if server is not None else python
            raise CompatError(f"cannot start a {name} with {how}: {exc.strerror or exc}") from None
        tempdirs.track(self)
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.hello = self.read(start_timeout, "start-up (importing dagster)")
        if not self.hello.get("hello"):
            self.close()
            raise CompatError(f"{name} on {python} did not say hello: {str(self.hello)[:200]}")
        if server is not None:
            self.proc.pid = self.hello.get("pid")
        self.dagster_version = self.hello.get("dagster_version", "?")

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                self._lines.put(line)
        except (OSError, ValueError):  # a forked worker's connection reset by its death, or closed
            pass
        self._lines.put(None)

    def stderr_tail(self) -> str:
        try:
            self._log.flush()
            text = Path(self.log_path).read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return ""
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""

    def send(self, obj: dict, what: str) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(obj, sort_keys=True) + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            tail = self.stderr_tail()
            self.close()
            raise CompatError(f"{self.name} on {self.python} died before {what}" + (f": {tail}" if tail else "")) from None

    def read(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise CompatError(f"{self.name} on {self.python} hung during {what}: no reply after {timeout:g}s") from None
        if line is None:
            rc = self.proc.wait(timeout=10)
            tail = self.stderr_tail()
            self.close()
            raise CompatError(f"{self.name} on {self.python} crashed during {what} (exit {rc})" + (f": {tail}" if tail else ""))
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            self.kill()
            raise CompatError(f"{self.name} on {self.python} wrote garbage during {what}: {line[:200]!r}") from None

    def receive(self, timeout: float, what: str) -> dict[str, Any]:
        """The next reply, which must be ``{"ok": true, ...}``."""
        reply = self.read(timeout, what)
        if not reply.get("ok"):
            raise CompatError(f"{self.name} on {self.python} failed {what}: {reply.get('error')}")
        return reply

    def request(self, obj: dict, timeout: float, what: str) -> dict[str, Any]:
        self.send(obj, what)
        return self.receive(timeout, what)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, TypeError):
                self.proc.kill()
            self.proc.wait(timeout=10)
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"op": "exit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError, TypeError):
                    pass
                self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout, getattr(self.proc, "sock", None)):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.home, ignore_errors=True)
        tempdirs.untrack(self)


class Forked:
    """What WorkerProcess uses of a Popen, for a worker a fork server forked: the connection is
    its stdin and stdout; its pid comes with its hello (the server reaps it, so it is gone, not
    a zombie, once it exits)."""

    def __init__(self, server: str, module: str, home: str, log: str, timeout: float) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + BIND_WAIT
        while True:
            try:
                self.sock.connect(server)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:  # the server never came up
                    self.sock.close()
                    raise
                time.sleep(0.05)  # started this moment: not bound yet
            except OSError:
                self.sock.close()
                raise
        self.sock.settimeout(None)
        self.pid: int | None = None
        self.returncode: Any = None
        self.stdin = self.sock.makefile("w", encoding="utf-8")
        self.stdout = self.sock.makefile("r", encoding="utf-8")
        self.stdin.write(json.dumps({"home": home, "log": log, "module": module}) + "\n")
        self.stdin.flush()

    def poll(self) -> int | None:
        if self.returncode is None and self.pid is not None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = "unknown"  # its exit status went to the server that reaped it
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if self.pid is None:  # never said hello: its connection is all there is
                self.returncode = "unknown"
                break
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"forked worker {self.pid}", timeout or 0)
            time.sleep(0.01)
        return self.returncode

    def kill(self) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# --- worker side ---------------------------------------------------------------------------------
def serve() -> Callable[[dict], None]:
    """Set up a worker process: the protocol gets the real stdout, anything else written there
    (by dagster, a subprocess, C code) goes to stderr; telemetry off; speed-ups on. Returns
    the function that sends one reply line."""
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    from compat.worker import speedups

    speedups.install()

    def send(obj: dict) -> None:
        proto.write(json.dumps(obj, sort_keys=True) + "\n")
        proto.flush()

    send.stream = proto  # type: ignore[attr-defined]  # a forked worker closes its server's
    return send


def requests():
    """The parsed request lines on stdin, up to ``{"op": "exit"}``."""
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get("op") == "exit":
            return
        yield req

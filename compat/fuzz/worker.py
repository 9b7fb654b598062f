"""Worker for differential fuzzing: one live program at a time, stepped over JSON lines.

Requests: ``{"op": "begin", "subclass": S, "storage": T}``, ``{"op": "step", "name": OP,
"args": {...}}``, ``{"op": "end"}``, ``{"op": "exit"}``, and while recording (``COMPAT_REACH=1``) ``{"op": "reach"}``:
the lines of dagster run since the last one (and, as ``"touched"``, what else the worker reached). Every reply is one line:
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. Imports: stdlib, dagster,
and compat modules that import only those.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile


def main() -> int:
    recorder = None
    if os.environ.get("COMPAT_REACH") == "1":  # recording: the lines of dagster each program runs
        from compat.worker.recorder import LineRecorder

        recorder = LineRecorder()
    from compat.channel import serve

    send = serve()
    importlib.import_module("compat.fuzz.ops")  # before the hello: start-up
    import dagster

    hello = {"hello": True, "dagster_version": dagster.__version__}
    if recorder is not None:
        hello["reach"] = recorder.take(harness=False)  # the start-up's harness code is no program's
        hello["touched"] = recorder.touched()
    send(hello)
    return _serve(send, recorder)


def serve_forked(prepared: dict) -> int:
    """A fuzz worker forked from a behaviour worker's fork server (:mod:`compat.forkserver`),
    which imported dagster and warmed up; while recording, programs run in a worker of their own."""
    from compat.channel import serve

    send = serve()
    importlib.import_module("compat.fuzz.ops")
    send({"hello": True, "dagster_version": prepared["dagster_version"], "pid": os.getpid(),
          "forked_from": os.getppid()})
    return _serve(send, None)


def _serve(send, recorder) -> int:
    from compat.channel import requests
    from compat.fuzz.ops import Session

    session = None
    root = None
    for req in requests():
        try:
            op = req.get("op")
            if op == "begin":
                if session is not None:
                    session.close()
                    shutil.rmtree(root, ignore_errors=True)
                root = tempfile.mkdtemp(prefix="compat-fuzz-")
                os.environ["DAGSTER_HOME"] = root
                session = Session(req["subclass"], req["storage"], root)
                send({"ok": True, "result": None})
            elif op == "step":
                send({"ok": True, "result": session.step(req["name"], req["args"])})
            elif op == "end":
                if session is not None:
                    session.close()
                    shutil.rmtree(root, ignore_errors=True)
                session = None
                send({"ok": True, "result": None})
            elif op == "reach" and recorder is not None:
                send({"ok": True, "result": recorder.take(), "touched": recorder.touched()})
            else:
                send({"ok": False, "error": f"unknown op {op!r}"})
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())

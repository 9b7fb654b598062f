"""Worker for differential fuzzing: one live program at a time, stepped over JSON lines.

Requests: ``{"op": "begin", "subclass": S, "storage": T}``, ``{"op": "step", "name": OP,
"args": {...}}``, ``{"op": "end"}``, ``{"op": "exit"}``. Every reply is one line:
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. Imports: stdlib, dagster,
and compat modules that import only those.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile


def main() -> int:
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    from compat import speedups
    from compat.fuzz_ops import Session

    speedups.install()

    def send(obj) -> None:
        proto.write(json.dumps(obj, sort_keys=True) + "\n")
        proto.flush()

    import dagster

    send({"hello": True, "dagster_version": dagster.__version__})
    session = None
    root = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "exit":
                break
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
            else:
                send({"ok": False, "error": f"unknown op {op!r}"})
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())

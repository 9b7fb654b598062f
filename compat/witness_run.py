"""A witness program and its run on one side: what the witnesses and the return contracts share.

A program is the same text on both sides; each side's own interpreter runs it in a subprocess of
its own (a temp dir for its DAGSTER_HOME). The outcome of a run is one line: ``passed`` (or what
the program printed last), or the last line of the traceback (the exception and its message).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compat import tempdirs
from compat.model.errors import CompatError

RUNTIME = "runtime"
TYPING = "typing"
SETUP_FAILED = 3  # the exit status of a witness that could not set itself up on a side
TIMEOUT = 180.0


@dataclass
class Witness:
    """A program and what it did on each side."""

    cause: str
    code: str
    old: str | None = None  # one line: `passed`, or the exception that ended the run
    new: str | None = None
    old_ok: bool | None = None
    new_ok: bool | None = None
    kind: str = RUNTIME  # run in each side's interpreter, or type-checked against each side (TYPING)

    @property
    def proves(self) -> str | None:
        return self.kind if self.old_ok and self.new_ok is False else None

    def to_dict(self) -> dict[str, Any]:
        return {"proves": self.proves, "kind": self.kind, "code": self.code, "old": self.old, "new": self.new}

    def filename(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.cause).strip("_")[:100] + ".py"


# the parts of a real in-memory instance, for programs that construct one
INSTANCE_PARTS = textwrap.dedent("""\
    import sys
    import tempfile


    def instance_arguments():
        # set-up: a side where this fails shows nothing either way (exit 3)
        try:
            from dagster._core.instance import InstanceType
            from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
            from dagster._core.run_coordinator import DefaultRunCoordinator
            from dagster._core.scheduler import DagsterDaemonScheduler
            from dagster._core.storage.event_log import InMemoryEventLogStorage
            from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
            from dagster._core.storage.root import LocalArtifactStorage
            from dagster._core.storage.runs import InMemoryRunStorage
            from dagster._core.storage.schedules import SqliteScheduleStorage

            return dict(
                instance_type=InstanceType.EPHEMERAL,
                local_artifact_storage=LocalArtifactStorage(tempfile.mkdtemp()),
                run_storage=InMemoryRunStorage(),
                event_storage=InMemoryEventLogStorage(),
                compute_log_manager=NoOpComputeLogManager(),
                run_coordinator=DefaultRunCoordinator(),
                run_launcher=SyncInMemoryRunLauncher(),
                schedule_storage=SqliteScheduleStorage.from_local(tempfile.mkdtemp()),
                scheduler=DagsterDaemonScheduler(),
            )
        except Exception as e:
            print(f"set-up failed: {type(e).__name__}: {e}", file=sys.stderr)
            raise SystemExit(3)
    """)


def run_one(code: str, python: str, *, timeout: float = TIMEOUT, paths: list[Path] | None = None) -> tuple[bool | None, str]:
    """Run the program with `python` in a temp dir of its own; (passed, one line of outcome).
    Passed is None when the program could not be set up on this side (exit 3, or a timeout):
    that shows nothing either way. `paths`: directories put first on the program's import path
    (a downstream package's unpacked release and its runtime)."""
    home = tempdirs.make("compat-witness-")
    try:
        path = home / "witness.py"
        path.write_text(code)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PYTHON"))}
        env.update(DAGSTER_HOME=str(home), HOME=str(home), PYTHONDONTWRITEBYTECODE="1", DAGSTER_DISABLE_TELEMETRY="1")
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
        try:
            proc = tempdirs.run([python, str(path)], timeout=timeout, capture_output=True, cwd=str(home),
                                env=env, text=True)
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout:.0f}s"
        except OSError as e:
            raise CompatError(f"cannot run a witness with {python}: {e}") from None
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode == 0:
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        return True, lines[-1].strip() if lines else "passed"
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith(" ")]
    line = (lines[-1].strip() if lines else f"exit {proc.returncode}").replace(str(home), "<tmp>")
    line = re.sub(r" \((/|[A-Za-z]:\\)[^()]*\)$", "", line)  # the side's own install path
    for p in paths or ():
        line = line.replace(str(p), "<release>")  # the cache's path of the downstream release
    return (None if proc.returncode == SETUP_FAILED else False), line


def unproven_why(w: Witness) -> str:
    """Why a witness that ran proves nothing."""
    what = "its typing witness" if w.kind == TYPING else "its witness"
    if w.old_ok is None or w.new_ok is None:
        return f"{what} could not run on both sides (old: {w.old}; new: {w.new})"
    if not w.old_ok:
        return f"{what} fails on the old side too: {w.old}"
    return f"{what} passes on both sides" + (" (the type checker accepts both)" if w.kind == TYPING else "")


# the shape of every call `<...instance>.name(...)` (and `self.name(...)` in the instance's own
# package) in the side's installed dagster, with where one is; `any_receiver`: a call on any
# object (a downstream base's member is called on whatever holds one); splats are left out
CALL_SITES = textwrap.dedent("""\
    import ast
    import importlib.util
    from pathlib import Path


    def dagster_trees(name):
        # (dagster's root, a file's path, its tree, whether it is the instance's own package) of
        # each file of the installed dagster that calls `.name(`, in sorted order
        root = Path(importlib.util.find_spec("dagster").submodule_search_locations[0])
        for path in sorted(root.rglob("*.py")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if f".{name}(" not in text:
                continue
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            yield root, path, tree, "_core/instance/" in path.as_posix()


    def call_sites(name, any_receiver=False):
        shapes = {}
        for root, path, tree, own in dagster_trees(name):
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name):
                    continue
                receiver = ast.unparse(node.func.value)
                if not (any_receiver or receiver.lower().endswith("instance") or (own and receiver == "self")):
                    continue
                if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                    continue  # a splat: its shape is not known here
                shape = (len(node.args), tuple(sorted(k.arg for k in node.keywords)))
                shapes.setdefault(shape, f"{path.relative_to(root.parent).as_posix()}:{node.lineno}")
        return sorted(shapes.items())
    """)


__all__ = ["CALL_SITES", "INSTANCE_PARTS", "RUNTIME", "SETUP_FAILED", "TIMEOUT", "TYPING", "Witness", "run_one", "unproven_why"]

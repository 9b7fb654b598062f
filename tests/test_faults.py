"""Fault injection: damaged baseline files, run through the CLI and the gate alike.

Each row edits one file of a copy of the shipped baseline; both front ends must refuse it in one
line that names the file (exit 2 for the CLI; a usage error, or one failing test whose reason is
that line, for the gate), never a traceback or INTERNALERROR, and leave the baseline as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRACE = "traces/spy__storage_wipe__memory.json"


def _edit_json(rel: str, fn):
    def apply(base: Path) -> None:
        path = base / rel
        data = json.loads(path.read_text())
        fn(data)
        path.write_text(json.dumps(data))
    return apply


def _write(rel: str, text: str):
    def apply(base: Path) -> None:
        (base / rel).write_text(text)
    return apply


def _first_member(fn):
    def edit(d):
        fn(d["members"][sorted(d["members"])[0]])
    return edit


def _accepted(entries):
    return _write("accepted.json", json.dumps({"schema": "compat.accepted", "schema_version": 1, "accepted": entries}))


FAULTS = {  # id: (edit, file named in the message, what the message says)
    "manifest-profiles-null": (_edit_json("manifest.json", lambda d: d.update(profiles=None)), "manifest.json", "profiles"),
    "manifest-target-number": (_edit_json("manifest.json", lambda d: d.update(target=3)), "manifest.json", "target"),
    "manifest-cells-string": (_edit_json("manifest.json", lambda d: d.update(cells="553")), "manifest.json", "cells"),
    "manifest-no-target": (_edit_json("manifest.json", lambda d: d.pop("target")), "manifest.json", "target"),
    "manifest-empty": (_write("manifest.json", ""), "manifest.json", "empty"),
    "manifest-truncated": (_write("manifest.json", '{"schema": "compat.baseline", "sch'), "manifest.json", "truncated"),
    "manifest-other-kind": (_write("manifest.json", '{"schema": "compat.trace", "schema_version": 1}'), "manifest.json", "compat.trace"),
    "manifest-future-version": (_edit_json("manifest.json", lambda d: d.update(schema_version=9)), "manifest.json", "upgrade"),
    "manifest-missing-profile": (_edit_json("manifest.json", lambda d: d["profiles"].append("gone.json")), "gone.json", "is missing"),
    "surface-no-members": (_edit_json("surface.json", lambda d: d.pop("members")), "surface.json", "members"),
    "surface-signature-string": (_edit_json("surface.json", _first_member(lambda m: m.update(signature="def f(self)"))),
                                 "surface.json", "signature"),
    "surface-unknown-kind": (_edit_json("surface.json", _first_member(lambda m: m.update(kind="gizmo"))), "surface.json", "kind"),
    "surface-unknown-visibility": (_edit_json("surface.json", _first_member(lambda m: m.update(visibility="secret"))),
                                   "surface.json", "visibility"),
    "surface-extra-key": (_edit_json("surface.json", _first_member(lambda m: m.update(colour="red"))), "surface.json", "colour"),
    "surface-line-not-int": (_edit_json("surface.json", lambda d: d["cls"].update(location=12)), "surface.json", "location"),
    "surface-truncated": (_write("surface.json", '{"schema": "compat.surface", "schema_version": 1, "cls": {'),
                          "surface.json", "truncated"),
    "accepted-member-int": (_accepted([{"rule": "member-added", "member": 3, "reason": "x"}]), "accepted.json", "member"),
    "accepted-empty-reason": (_accepted([{"rule": "member-added", "member": "x", "reason": " "}]), "accepted.json", "reason"),
    "accepted-unknown-rule": (_accepted([{"rule": "no-such-rule", "member": "x", "reason": "r"}]), "accepted.json", "no known rule"),
    "accepted-extra-key": (_accepted([{"rule": "member-added", "member": "x", "reason": "r", "by": "me"}]), "accepted.json", "by"),
    "accepted-not-a-list": (_write("accepted.json", json.dumps({"schema": "compat.accepted", "schema_version": 1,
                                                                "accepted": {"rule": "member-added"}})), "accepted.json", "accepted"),
    "profile-truncated": (_write("profiles/corpus.json", '{"schema": "compat.profile"'), "corpus.json", "truncated"),
    "trace-no-cell": (_edit_json(TRACE, lambda d: d.pop("cell")), TRACE, "cell"),
    "trace-dispatch-not-list": (_edit_json(TRACE, lambda d: d.update(dispatch="none")), TRACE, "dispatch"),
    "trace-cell-not-strings": (_edit_json(TRACE, lambda d: d["cell"].update(storage=1)), TRACE, "cell.storage"),
    "trace-truncated": (_write(TRACE, '{"schema": "compat.trace", "schema_'), TRACE, "truncated"),
    "trace-future-version": (_edit_json(TRACE, lambda d: d.update(schema_version=99)), TRACE, "upgrade"),
}


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def damaged(tmp_path, request):
    base = tmp_path / "baseline"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    edit, _, _ = FAULTS[request.param]
    edit(base)
    return base


def _one_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("damaged", sorted(FAULTS), indirect=True)
def test_a_damaged_baseline_is_one_line_in_the_cli_and_the_gate(damaged, request):
    _, named, says = FAULTS[request.node.callspec.params["damaged"]]
    before = _digest(damaged)
    env = {**os.environ, "COMPAT_QUIET": "1"}
    cli = subprocess.run([sys.executable, "-m", "compat", "check", "--baseline", str(damaged)],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert cli.returncode == 2, cli.stdout + cli.stderr
    line = _one_line(cli.stderr)
    assert named in line and says in line and "internal error" not in line, line

    select = ["-k", "storage_wipe__memory and spy and not spy-"] if named == TRACE else ["--compat-no-behaviour"]
    gate = subprocess.run([sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider",
                           "--compat-baseline", str(damaged), *select],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    out = gate.stdout + gate.stderr
    assert "INTERNALERROR" not in out and "Traceback" not in out, out
    if gate.returncode == 4:  # refused while configuring: pytest's usage error, one line
        assert named in _one_line(gate.stderr) and says in gate.stderr, gate.stderr
    else:  # refused by the one test that reads the file
        assert gate.returncode == 1, out
        reasons = [ln for ln in gate.stdout.splitlines() if ln.startswith("compat: ") and named in ln]
        assert reasons and says in reasons[0], out
    assert _digest(damaged) == before

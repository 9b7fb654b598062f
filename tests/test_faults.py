"""Fault injection: damaged baseline files and bad environments, run through the CLI and the
gate alike.

Each baseline row edits one file of a copy of the shipped baseline; each environment row sets up
a bad option, interpreter, output path, full disk or project setting. Both front ends must
refuse it in one line that names the input and the fault (exit 2 for the CLI; a usage error, or
one failing test whose reason is that line, for the gate), never a traceback or INTERNALERROR,
and leave the baseline as it was, no temp dir and no child process behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
_SHIPPED_CELLS = len(list((ROOT / "snapshots" / "baseline" / "traces").glob("*.json")))  # the shipped baseline's cells
TRACE = "traces/spy__storage_wipe__memory.json"
OTHER_TRACE = "traces/spy__storage_wipe__sqlite.json"


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


def _write_bytes(rel: str, data: bytes):
    def apply(base: Path) -> None:
        (base / rel).write_bytes(data)
    return apply


def _remove(rel: str):
    def apply(base: Path) -> None:
        (base / rel).unlink()
    return apply


def _symlink(rel: str, to: str, loop_back: str | None = None):
    """`rel` becomes a link to `to` (a dangling one, a loop when `to` links back, a device)."""
    def apply(base: Path) -> None:
        (base / rel).unlink(missing_ok=True)
        (base / rel).symlink_to(to)
        if loop_back:
            (base / rel).parent.joinpath(to).symlink_to(Path(rel).name)
    return apply


def _directory(rel: str):
    def apply(base: Path) -> None:
        (base / rel).unlink()
        (base / rel).mkdir()
    return apply


def _nest(rel: str, depth: int):
    """A list nested `depth` deep as the first entry of the first list in the file."""
    def apply(base: Path) -> None:
        text = (base / rel).read_text()
        at = text.index("[") + 1
        (base / rel).write_text(text[:at] + "[" * depth + "]" * depth + "," + text[at:])
    return apply


def _first_member(fn):
    def edit(d):
        fn(d["members"][sorted(d["members"])[0]])
    return edit


def _planted(rel: str, cell: dict, drop: str):
    """A trace of `cell` (not of the cell set) under its own file name, in place of `drop`: the
    count of trace files is the manifest's, the cells are not the ones it claims."""
    def apply(base: Path) -> None:
        data = json.loads((base / TRACE).read_text())
        data["cell"] = cell
        (base / rel).write_text(json.dumps(data))
        (base / drop).unlink()
    return apply


def _drop_cell(rel: str):
    """A cell of the set gone, the manifest's count lowered to match: the set still holds it."""
    def apply(base: Path) -> None:
        (base / rel).unlink()
        _edit_json("manifest.json", lambda d: d.update(cells=d["cells"] - 1))(base)
    return apply


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
    # what the machine does to a file: links, devices, directories, bytes, depth
    "surface-symlink-loop": (_symlink("surface.json", "loop.json", "loop.json"), "loop.json", "is a symbolic link"),
    "surface-io-error": (_symlink("surface.json", "/proc/self/mem"), "surface.json", "is a symbolic link"),
    "surface-is-directory": (_directory("surface.json"), "surface.json", "is a directory"),
    "surface-not-utf8": (_write_bytes("surface.json", b'{"schema": "\xff\xfe"}'), "surface.json", "not a text file"),
    "surface-deep-nesting": (_nest("surface.json", 100_000), "surface.json", "nested too deeply"),
    "surface-nesting-in-a-field": (_nest("surface.json", 500), "surface.json", "cls.bases.0"),
    "surface-members-list": (_edit_json("surface.json", lambda d: d.update(members=[])), "surface.json", "members"),
    "surface-mro-string": (_edit_json("surface.json", lambda d: d["cls"].update(mro="DagsterInstance")), "surface.json", "mro"),
    "surface-other-kind": (_write("surface.json", '{"schema": "compat.profile", "schema_version": 1}'),
                           "surface.json", "compat.profile"),
    "manifest-a-list": (_write("manifest.json", "[]"), "manifest.json", "no 'schema' key"),
    "manifest-dangling-link": (_symlink("manifest.json", "nowhere.json"), "manifest.json", "is a symbolic link"),
    "manifest-profile-not-string": (_edit_json("manifest.json", lambda d: d.update(profiles=[1])), "manifest.json", "profiles.0"),
    "manifest-cells-mismatch": (_edit_json("manifest.json", lambda d: d.update(cells=5)), "manifest", "trace files"),
    "manifest-programs-missing": (_remove("fuzz/programs.json"), "fuzz/programs.json", "is missing"),
    "programs-truncated": (_write("fuzz/programs.json", '{"schema": "compat.programs", "sch'), "programs.json", "truncated"),
    "programs-other-kind": (_write("fuzz/programs.json", '{"schema": "compat.trace", "schema_version": 1}'),
                            "programs.json", "compat.trace"),
    "profile-other-kind": (_write("profiles/corpus.json", '{"schema": "compat.surface", "schema_version": 1}'),
                           "corpus.json", "compat.surface"),
    "profile-removed": (_remove("profiles/corpus.json"), "profiles/corpus.json", "is missing"),
    "accepted-truncated": (_write("accepted.json", '{"schema": "compat.accepted", "sch'), "accepted.json", "truncated"),
    "accepted-rule-null": (_accepted([{"rule": None, "member": "x", "reason": "r"}]), "accepted.json", "rule"),
    "accepted-symlink-loop": (_symlink("accepted.json", "accepted.json"), "accepted.json", "is a symbolic link"),
    "trace-is-directory": (_directory(TRACE), TRACE, "is a directory"),
    "trace-deep-nesting": (_nest(TRACE, 100_000), TRACE, "nested too deeply"),
    "trace-a-list": (_write(TRACE, "[1]"), TRACE, "no 'schema' key"),
    # a baseline is a stranger's data: no link, no path outside it, no duplicate key, no huge number
    "trace-link-to-a-secret": (_symlink("traces/zz__planted.json", "/etc/hostname"), "zz__planted.json", "is a symbolic link"),
    "profile-link-to-a-secret": (_symlink("profiles/corpus.json", "/etc/hostname"), "corpus.json", "is a symbolic link"),
    "reach-link": (_symlink("reach.json", "/etc/hostname"), "reach.json", "is a symbolic link"),
    "manifest-profile-outside": (_edit_json("manifest.json", lambda d: d["profiles"].append("../../../etc/x.json")),
                                 "manifest.json", "not a file name inside profiles/"),
    "manifest-profile-absolute": (_edit_json("manifest.json", lambda d: d["profiles"].append("/etc/x.json")),
                                  "manifest.json", "not a file name inside profiles/"),
    "manifest-target-planted": (_edit_json("manifest.json", lambda d: d.update(target="planted:Evil")),
                                "planted:Evil", "name that target"),
    "manifest-duplicate-key": (_write("manifest.json", '{"schema": "compat.baseline", "schema_version": 1, '
                                                       '"target": "a:B", "target": "c:D"}'), "manifest.json", "appears twice"),
    "manifest-version-true": (_edit_json("manifest.json", lambda d: d.update(schema_version=True)), "manifest.json",
                              "version True"),
    "manifest-version-float": (_edit_json("manifest.json", lambda d: d.update(schema_version=1.0)), "manifest.json",
                               "version 1.0"),
    "manifest-huge-int": (_write("manifest.json", '{"schema": "compat.baseline", "schema_version": 1, "cells": '
                                                  + "9" * 5000 + "}"), "manifest.json", "5000 digits"),
    "surface-huge-int": (_edit_json("surface.json", lambda d: d.update(schema_version=int("7" * 4000))), "surface.json",
                         "4000 digits"),
    "trace-huge-int": (_write(TRACE, '{"schema": "compat.trace", "schema_version": 1, "result": ' + "1" * 5000 + "}"),
                       TRACE, "5000 digits"),
    "accepted-duplicate-key": (_write("accepted.json", '{"schema": "compat.accepted", "schema_version": 1, "accepted": '
                                                       '[{"rule": "member-added", "member": "x", "reason": "r"}], '
                                                       '"accepted": []}'), "accepted.json", "appears twice"),
    "accepted-version-true": (_write("accepted.json", '{"schema": "compat.accepted", "schema_version": true, '
                                                      '"accepted": []}'), "accepted.json", "version True"),
    "programs-no-programs": (_write("fuzz/programs.json", '{"schema": "compat.fuzz-programs", "schema_version": 1}'),
                             "programs.json", "programs"),
    "programs-results-empty": (_edit_json("fuzz/programs.json", lambda d: d["programs"][0].update(results=[])),
                               "programs.json", "0 results for"),
    "programs-steps-not-list": (_edit_json("fuzz/programs.json", lambda d: d["programs"][0].update(steps="x")),
                                "programs.json", "programs.0.steps"),
    "accepted-star": (_accepted([{"rule": "parameter-renamed", "member": "*", "reason": "r"}]), "accepted.json",
                      "matches every member"),
    "accepted-double-star": (_accepted([{"rule": "parameter-renamed", "member": "**", "reason": "r"}]), "accepted.json",
                             "matches every member"),
    "accepted-match-all-class": (_accepted([{"rule": "parameter-renamed", "member": "[!!]*", "reason": "r"}]),
                                 "accepted.json", "matches every member"),
    "accepted-version-string": (_write("accepted.json", '{"schema": "compat.accepted", "schema_version": "1", '
                                                        '"accepted": []}'), "accepted.json", "version '1'"),
    "manifest-link-to-a-baseline": (_symlink("manifest.json", "/dev/null"), "manifest.json", "is a symbolic link"),
    "surface-link-to-passwd": (_symlink("surface.json", "/etc/passwd"), "surface.json", "is a symbolic link"),
    "programs-link": (_symlink("fuzz/programs.json", "/etc/hostname"), "programs.json", "is a symbolic link"),
    "accepted-link-to-a-secret": (_symlink("accepted.json", "/etc/hostname"), "accepted.json", "is a symbolic link"),
    "manifest-profile-in-a-subdir": (_edit_json("manifest.json", lambda d: d["profiles"].append("sub/x.json")),
                                     "manifest.json", "not a file name inside profiles/"),
    "manifest-profile-dotdot": (_edit_json("manifest.json", lambda d: d["profiles"].append("..json")),
                                "manifest.json", "not a file name inside profiles/"),
    "manifest-profile-hidden": (_edit_json("manifest.json", lambda d: d["profiles"].append(".x.json")),
                                "manifest.json", "not a file name inside profiles/"),
    "manifest-target-stdlib": (_edit_json("manifest.json", lambda d: d.update(target="os:PathLike")),
                               "os:PathLike", "name that target"),
    "manifest-cells-bool": (_edit_json("manifest.json", lambda d: d.update(cells=True)), "manifest.json", "cells"),
    "surface-duplicate-key": (_write("surface.json", '{"schema": "compat.surface", "schema": "compat.surface", '
                                                     '"schema_version": 1}'), "surface.json", "appears twice"),
    "surface-version-true": (_edit_json("surface.json", lambda d: d.update(schema_version=True)), "surface.json",
                             "version True"),
    "profile-huge-int": (_write("profiles/corpus.json", '{"schema": "compat.profile", "schema_version": '
                                                        + "3" * 4500 + "}"), "corpus.json", "4500 digits"),
    "profile-duplicate-key": (_write("profiles/corpus.json", '{"schema": "compat.profile", "schema_version": 1, '
                                                             '"schema_version": 1}'), "corpus.json", "appears twice"),
    "trace-duplicate-key": (_write(TRACE, '{"schema": "compat.trace", "schema_version": 1, "dispatch": [], '
                                          '"dispatch": []}'), TRACE, "appears twice"),
    "trace-version-true": (_edit_json(TRACE, lambda d: d.update(schema_version=True)), TRACE, "version True"),
    "programs-duplicate-key": (_write("fuzz/programs.json", '{"schema": "compat.fuzz-programs", "schema_version": 1, '
                                                            '"programs": [], "programs": []}'), "programs.json",
                               "appears twice"),
    "programs-results-short": (_edit_json("fuzz/programs.json", lambda d: d["programs"][1]["results"].pop()),
                               "programs.json", "programs.1 has"),
    "programs-subclass-number": (_edit_json("fuzz/programs.json", lambda d: d["programs"][0].update(subclass=3)),
                                 "programs.json", "programs.0.subclass"),
    "reach-huge-int": (_write("reach.json", '{"schema": "compat.reach", "schema_version": ' + "5" * 5000 + "}"),
                       "reach.json", "5000 digits"),
    "programs-huge-int": (_write("fuzz/programs.json", '{"schema": "compat.programs", "schema_version": '
                                                       + "2" * 5000 + "}"), "programs.json", "5000 digits"),
    # what a trace and the manifest claim must agree with what they hold
    "trace-of-another-cell": (_write_bytes(TRACE, (ROOT / "snapshots/baseline" / OTHER_TRACE).read_bytes()), TRACE,
                              "holds the trace of cell spy/storage_wipe/sqlite"),
    "trace-renamed-cell": (_edit_json(TRACE, lambda d: d["cell"].update(scenario="runs_lifecycle")), TRACE,
                           "not of the cell its name says"),
    "trace-cell-no-scenario": (_edit_json(TRACE, lambda d: d["cell"].pop("scenario")), TRACE, "cell.scenario"),
    "trace-spied-nothing": (_edit_json(TRACE, lambda d: d["meta"].update(spied_members=[])), TRACE,
                            "meta.spied_members is empty"),
    "trace-spied-not-a-list": (_edit_json(TRACE, lambda d: d["meta"].update(spied_members="all")), TRACE,
                               "meta.spied_members"),
    "trace-dispatch-unspied": (_edit_json(TRACE, lambda d: d["meta"].update(spied_members=["_x"])), TRACE,
                               "which meta.spied_members does not list"),
    "manifest-programs-count": (_edit_json("manifest.json", lambda d: d.update(fuzz_programs=3)), "programs.json",
                                "the manifest lists 3"),
    "manifest-programs-zero": (_edit_json("manifest.json", lambda d: d.update(fuzz_programs=0)), "programs.json",
                               "the manifest lists 0"),
    # names are data: a lone surrogate is no text and is refused; a bidi override is shown escaped
    "surface-member-lone-surrogate": (_edit_json("surface.json", lambda d: d["members"].update(
        {"_x\ud800": d["members"].pop(sorted(d["members"])[0])})), "surface.json", "lone surrogate (\\ud800)"),
    "accepted-member-lone-surrogate": (_accepted([{"rule": "member-added", "member": "\udcff", "reason": "r"}]),
                                       "accepted.json", "lone surrogate (\\udcff)"),
    "profile-lone-surrogate": (_edit_json("profiles/corpus.json", lambda d: d.update(target="a\udfffb:C")),
                               "corpus.json", "lone surrogate (\\udfff)"),
    "manifest-cells-zero": (_edit_json("manifest.json", lambda d: d.update(cells=0)), "baseline", "lists 0"),
    "manifest-digest-not-hex": (_edit_json("manifest.json", lambda d: d.update(digests={"surface.json": "x"})),
                                "manifest.json", "digests.surface.json"),
    "manifest-digests-list": (_edit_json("manifest.json", lambda d: d.update(digests=[])), "manifest.json", "digests"),
    # the trace files are the cells of the cell set the manifest claims, no more and no fewer
    "manifest-cell-set-unknown": (_edit_json("manifest.json", lambda d: d.update(cell_set="everything")),
                                  "manifest.json", "unknown cell set 'everything'"),
    "manifest-cell-set-none": (_edit_json("manifest.json", lambda d: d.update(cell_set=None)), "manifest.json",
                               f"none declared, but the baseline holds {_SHIPPED_CELLS} trace files"),
    "manifest-cell-set-number": (_edit_json("manifest.json", lambda d: d.update(cell_set=1)), "manifest.json", "cell_set"),
    "manifest-cell-set-smaller": (_edit_json("manifest.json", lambda d: d.update(cell_set="spy")), "'spy' cell set",
                                  "a cell the 'spy' cell set does not hold (and "),
    "manifest-cell-set-larger": (_edit_json("manifest.json", lambda d: d.update(cell_set="full")), "'full' cell set",
                                 "with no trace file"),
    "manifest-selection-narrower": (_edit_json("manifest.json", lambda d: d.update(selection={"scenarios": ["storage_wipe"]})),
                                    "narrowed by its selection", "does not hold"),
    "manifest-selection-unknown-subclass": (_edit_json("manifest.json", lambda d: d.update(
        selection={"subclasses": ["spy", "os:system"]})), "manifest.json", "'os:system' is no subclass of the harness"),
    "manifest-selection-unknown-scenario": (_edit_json("manifest.json", lambda d: d.update(
        selection={"scenarios": ["no_such"]})), "manifest.json", "unknown scenario(s): no_such"),
    "manifest-selection-empty-list": (_edit_json("manifest.json", lambda d: d.update(selection={"storages": []})),
                                      "manifest.json", "selection.storages"),
    "manifest-selection-extra-key": (_edit_json("manifest.json", lambda d: d.update(selection={"cells": ["x"]})),
                                     "manifest.json", "selection.cells"),
    "trace-of-a-cell-outside-the-set": (_planted("traces/spy__storage_wipe__postgres.json", {
        "subclass": "spy", "scenario": "storage_wipe", "storage": "postgres"}, OTHER_TRACE),
        "traces/spy__storage_wipe__postgres.json", "does not hold"),
    "trace-of-the-set-missing": (_drop_cell(OTHER_TRACE), OTHER_TRACE, "a cell of the 'gate' cell set with no trace file"),
    "trace-meta-other-release": (_edit_json(TRACE, lambda d: d["meta"].update(dagster_version="1.11.4")), TRACE,
                                 "recorded on dagster 1.11.4, but the baseline on 1.13.29"),
    "trace-meta-steps-disagree": (_edit_json(TRACE, lambda d: d["meta"]["steps"].append("ghost")), TRACE,
                                  "meta.steps and the recorded results disagree on step 'ghost'"),
    "trace-meta-steps-string": (_edit_json(TRACE, lambda d: d["meta"].update(steps="create")), TRACE, "meta.steps"),
}


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_symlink():  # a damaged row's link (a loop, a device): its target, never its content
            h.update(str(p.relative_to(root)).encode() + b"\0->" + os.readlink(p).encode())
        elif p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _quick_sample(rows, every: int = 8) -> list:
    """The rows in order, all but one in `every` marked slow: the quick tier (`-m "not slow"`) runs
    a spread of the table (each row is a CLI run and a gate run), the full suite every row."""
    return [name if i % every == 0 else pytest.param(name, marks=pytest.mark.slow)
            for i, name in enumerate(sorted(rows))]


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


@pytest.mark.parametrize("damaged", _quick_sample(FAULTS), indirect=True)
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
                           "--compat-baseline", str(damaged), "--tb=short", *select],
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


# --- environments: bad options, interpreters, output paths, full disks, project settings --------
@dataclass
class Env:
    """One bad environment: the CLI command and gate options that meet it (None: that front end
    has no such input), what the one line must name and say, and how the machine is set up.
    `ok` rows are faults the harness must shrug off (a missing cache costs speed only)."""
    cli: list[str] | None
    gate: list[str] | None
    named: str
    says: str
    setup: Callable[[Path], None] = lambda tmp: None
    env: dict = field(default_factory=dict)
    file_limit: int | None = None  # bytes: RLIMIT_FSIZE, a disk that fills up mid-write
    project: str | None = None  # a pyproject.toml for the gate's project directory
    ok: bool = False
    untouched: str | None = None  # a path under the row's folder that must stay byte for byte


def _script(name: str, body: str):
    def setup(tmp: Path) -> None:
        path = tmp / name
        path.write_text("#!/bin/sh\n" + body.replace("{tmp}", str(tmp)) + "\n")
        path.chmod(0o755)
    return setup


def _file(name: str, text: str = "", mode: int = 0o644):
    def setup(tmp: Path) -> None:
        (tmp / name).write_text(text)
        (tmp / name).chmod(mode)
    return setup


def _baseline_holding(rel: str):
    """A copy of the shipped baseline (folder `kept`) that also holds a file of the user's."""
    def setup(tmp: Path) -> None:
        shutil.copytree(ROOT / "snapshots" / "baseline", tmp / "kept")
        (tmp / "kept" / rel).parent.mkdir(exist_ok=True)
        (tmp / "kept" / rel).write_text("mine\n")
    return setup


def _git_repo(tmp: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp / "repo")], check=True)


CHECK = ["check", "--baseline", "{base}"]
SNAP = ["snapshot"]
ENVIRONMENTS = {
    "baseline-missing": Env(["check", "--baseline", "{tmp}/nope"], ["--compat-baseline", "{tmp}/nope"], "nope", "no such directory"),
    "baseline-is-a-file": Env(["check", "--baseline", "{tmp}/afile"], ["--compat-baseline", "{tmp}/afile"], "afile", "is a file",
                              setup=_file("afile")),
    "target-no-module": Env([*SNAP, "--target", "nosuch.mod:X"], ["--compat-target", "nosuch.mod:X"], "nosuch.mod", "not found"),
    "target-no-colon": Env([*SNAP, "--target", "dagster"], ["--compat-target", "dagster"], "dagster", "expected module:Class"),
    "target-no-class": Env([*SNAP, "--target", "dagster:NoSuch"], ["--compat-target", "dagster:NoSuch"], "NoSuch", "no attribute"),
    "python-missing": Env([*SNAP, "--python", "{tmp}/nopy"], ["--compat-python", "{tmp}/nopy"], "nopy", "no such interpreter"),
    "python-not-executable": Env([*SNAP, "--python", "{tmp}/py"], ["--compat-python", "{tmp}/py"], "py", "not executable",
                                 setup=_file("py", "print(1)\n")),
    "python-hangs": Env([*SNAP, "--python", "{tmp}/hang"], ["--compat-python", "{tmp}/hang"], "hang", "hung",
                        setup=_script("hang", "sleep 1000 &\necho $! > {tmp}/child.pid\nwait"),
                        env={"COMPAT_PROBE_TIMEOUT": "3"}),
    "python-fails": Env([*SNAP, "--python", "{tmp}/fail"], ["--compat-python", "{tmp}/fail"], "fail", "failed to start",
                        setup=_script("fail", "exit 3")),
    "python-not-python": Env([*SNAP, "--python", "{tmp}/echo"], ["--compat-python", "{tmp}/echo"], "echo", "did not report",
                             setup=_script("echo", "echo hello")),
    # a named pipe stands for any special file: were the guard gone, a device like /dev/full would be replaced
    "report-is-a-special-file": Env([*CHECK, "--report", "{tmp}/pipe"], ["--compat-report", "{tmp}/pipe"], "pipe",
                                    "not a regular file", setup=lambda tmp: os.mkfifo(tmp / "pipe")),
    "report-is-a-directory": Env([*CHECK, "--report", "{tmp}"], ["--compat-report", "{tmp}"], "report", "not a regular file"),
    "output-is-a-directory": Env([*SNAP, "--output", "{tmp}"], None, "output", "not a regular file"),
    "disk-full-snapshot": Env([*SNAP, "--output", "{tmp}/s.json"], None, "s.json", "File too large", file_limit=20_000),
    "disk-full-report": Env(["diff", "{base}/surface.json", str(ROOT / "snapshots/baseline-1.11.4/surface.json"), "--fail-on", "never", "--format", "json",
                             "--report", "{tmp}/r.json"], ["--compat-report", "{tmp}/r.md"], "r.", "File too large",
                            file_limit=100),
    "disk-full-update": Env(["baseline", "--out", "{base}"], ["--compat-update", "--compat-baseline", "{base}"],
                            "not recorded", "File too large", file_limit=200_000),
    "jobs-zero": Env([*CHECK, "-j", "0"], None, "--jobs", "at least one"),
    "jobs-word": Env([*CHECK, "-j", "many"], None, "--jobs", "'many'"),
    "unknown-command": Env(["frobnicate"], None, "frobnicate", "invalid choice"),
    "dagster-version-empty": Env([*SNAP, "--dagster-version", ""], None, "''", "not a dagster version"),
    "dagster-version-newline": Env([*SNAP, "--dagster-version", "1.11.4\n"], None, "1.11.4\\n", "not a dagster version"),
    "dagster-version-word": Env([*SNAP, "--dagster-version", "latest"], None, "latest", "not a dagster version"),
    "spec-unknown-revision": Env(["diff", "{tmp}/repo@nope", "installed"], None, "repo@nope", "no such revision",
                                 setup=_git_repo),
    "spec-tree-without-dagster": Env(["diff", "{tmp}", "installed"], None, str("dagster"), "no `dagster` package"),
    "pyproject-invalid-toml": Env(None, [], "pyproject.toml", "invalid TOML", project="[tool.compat\n"),
    "pyproject-unknown-key": Env(None, [], "baseilne", "extra inputs", project='[tool.compat]\nbaseilne = "x"\n'),
    "pyproject-behaviour-string": Env(None, [], "behaviour", "valid boolean", project='[tool.compat]\nbehaviour = "false"\n'),
    "pyproject-fail-on": Env(None, [], "fail_on", "'breaking'", project='[tool.compat]\nfail-on = "sometimes"\n'),
    "pyproject-not-a-table": Env(None, [], "[tool.compat]", "must be a table", project="[tool]\ncompat = 3\n"),
    "cache-cannot-be-created": Env([*SNAP], [], "cannot be written", "using", env={"COMPAT_CACHE_DIR": "{tmp}/afile/cache"},
                                   setup=_file("afile"), ok=True),
    "tmpdir-missing": Env([*SNAP], [], "", "", env={"TMPDIR": "{tmp}/no-such-tmp"}, ok=True),
    # numbers and empty values: one line, never a traceback, nothing accepted that means nothing
    **{f"probe-timeout-{v}": Env([*SNAP], [], "COMPAT_PROBE_TIMEOUT", "above 0", env={"COMPAT_PROBE_TIMEOUT": v})
       for v in ("abc", "0", "-1", "nan", "inf", "1e400")},
    "perf-rounds-zero": Env(["perf", "--old", "installed", "--new", "installed", "--rounds", "0"], None, "--rounds",
                            "at least 1"),
    "perf-rounds-word": Env(["perf", "--old", "installed", "--new", "installed", "--rounds", "x"], None, "--rounds",
                            "whole number"),
    "perf-threshold-nan": Env(["perf", "--old", "installed", "--new", "installed", "--threshold", "nan"], None,
                              "--threshold", "finite"),
    "perf-threshold-inf": Env(["perf", "--old", "installed", "--new", "installed", "--threshold", "inf"], None,
                              "--threshold", "finite"),
    "perf-threshold-negative": Env(["perf", "--old", "installed", "--new", "installed", "--threshold", "-1"], None,
                                   "--threshold", "at least 0"),
    "fuzz-max-examples-negative": Env(["fuzz", "--old", "installed", "--new", "installed", "--max-examples", "-1"],
                                      None, "--max-examples", "at least 0"),
    "compare-max-examples-negative": Env(["compare", "--old", "installed", "--new", "installed", "--max-examples",
                                          "-5"], None, "--max-examples", "at least 0"),
    "python-empty": Env([*SNAP, "--python", ""], ["--compat-python", ""], "python", "empty value"),
    "target-empty": Env(None, ["--compat-target", ""], "target", "empty value"),
    "report-empty": Env(None, ["--compat-report", ""], "report", "empty value"),
    "baseline-empty": Env(["check", "--baseline", ""], ["--compat-baseline", ""], "baseline", "empty"),
    # what a recording may replace: a baseline, an empty folder or nothing; never anything else
    "out-empty": Env(["baseline", "--out", ""], ["--compat-update", "--compat-baseline", ""], "baseline", "empty"),
    "out-user-folder": Env(["baseline", "--out", "{tmp}/mine"], ["--compat-update", "--compat-baseline", "{tmp}/mine"],
                           "mine", "not a baseline", setup=lambda tmp: (tmp / "mine").mkdir() or (
                               tmp / "mine" / "notes.txt").write_text("mine\n"), untouched="mine"),
    "out-is-a-file": Env(["baseline", "--out", "{tmp}/afile"], ["--compat-update", "--compat-baseline", "{tmp}/afile"],
                         "afile", "not a directory", setup=_file("afile", "keep me\n"), untouched="afile"),
    "out-is-a-link": Env(["baseline", "--out", "{tmp}/link"], ["--compat-update", "--compat-baseline", "{tmp}/link"],
                         "link", "symbolic link", setup=lambda tmp: (tmp / "link").symlink_to(tmp)),
    "out-bad-manifest": Env(["baseline", "--out", "{tmp}/half"], ["--compat-update", "--compat-baseline", "{tmp}/half"],
                            "half", "not a baseline", setup=lambda tmp: (tmp / "half").mkdir() or (
                                tmp / "half" / "manifest.json").write_text("{}"), untouched="half"),
    # the cache is the user's own: one another user owns, or others may write, is refused
    "cache-world-writable": Env([*SNAP], [], "cache", "writable by others", env={"COMPAT_CACHE_DIR": "{tmp}/c"},
                                setup=lambda tmp: (tmp / "c").mkdir() or (tmp / "c").chmod(0o777)),
    "cache-group-writable": Env([*SNAP], [], "cache", "writable by others", env={"COMPAT_CACHE_DIR": "{tmp}/c"},
                                setup=lambda tmp: (tmp / "c").mkdir() or (tmp / "c").chmod(0o770)),
    # as root, a folder given to another user; as anyone else, the root directory (root's)
    "cache-another-users": Env([*SNAP], [], "cache", "owned by another user",
                               env={"COMPAT_CACHE_DIR": "{tmp}/c" if os.getuid() == 0 else "/"},
                               setup=lambda tmp: os.getuid() == 0 and ((tmp / "c").mkdir() or os.chown(tmp / "c", 1, -1))),
    "jobs-negative": Env([*CHECK, "-j", "-3"], None, "--jobs", "at least one"),
    "accept-baseline-empty": Env(["accept", "--baseline", "", "--reason", "r", "--rule", "x", "--member", "y"], None,
                                 "--baseline", "empty value"),
    "argument-not-utf8": Env(["check", "--baseline", "{tmp}/b\udcff"], None, "argument 3", "not valid UTF-8 (\\udcff)"),
    "argument-not-utf8-member": Env(["accept", "--baseline", "{base}", "--reason", "r", "--rule", "member-added",
                                     "--member", "x\udc80"], None, "x\\udc80", "not valid UTF-8"),
    # a baseline that also holds a file of the user's (notes, a submodule's .git): a re-recording
    # replaces the whole folder, so it is refused before anything is touched
    **{f"out-baseline-holding-{what}": Env(
        ["baseline", "--out", "{tmp}/kept"], ["--compat-update", "--compat-baseline", "{tmp}/kept"], shown,
        "which no recording writes", setup=_baseline_holding(rel), untouched="kept")
       for what, rel, shown in (("notes", "NOTES.md", "NOTES.md"), ("a-git-dir", ".git/HEAD", ".git/"),
                                ("a-file-among-traces", "traces/mine.txt", "traces/mine.txt"))},
    "baseline-scenarios-unknown": Env(["baseline", "--out", "{tmp}/new", "--scenarios", "storage_wipe", "no_such"], None,
                                      "no_such", "unknown scenario", untouched="."),
    "baseline-scenarios-with-old": Env(["baseline", "--out", "{tmp}/new", "--old", "dagster==1.11.4", "--scenarios",
                                        "storage_wipe"], None, "--scenarios", "not from --old", untouched="."),
    "baseline-programs-negative": Env(["baseline", "--out", "{tmp}/new", "--programs", "-1"], None, "--programs",
                                      "at least 0"),
    "cache-is-a-link": Env([*SNAP], [], "cache", "not a directory", env={"COMPAT_CACHE_DIR": "{tmp}/c"},
                           setup=lambda tmp: (tmp / "real").mkdir() or (tmp / "c").symlink_to(tmp / "real")),
}


def _fill(args: list[str], tmp: Path, base: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)).replace("{base}", str(base)) for a in args]


def _limited(limit: int | None):
    if limit is None:
        return None
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("row", _quick_sample(ENVIRONMENTS))
def test_a_bad_environment_is_one_line_in_the_cli_and_the_gate(row, tmp_path):
    env_row = ENVIRONMENTS[row]
    tmp = tmp_path / "w"
    tmp.mkdir()
    base = tmp_path / "baseline"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    before = _digest(base)
    env_row.setup(tmp)
    kept = _digest(tmp / env_row.untouched) if env_row.untouched and (tmp / env_row.untouched).is_dir() else (
        (tmp / env_row.untouched).read_bytes() if env_row.untouched else None)
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "COMPAT_QUIET": "1", "TMPDIR": str(temp), "COMPAT_CACHE_DIR": str(tmp_path / "cache")}
    env.update({k: v.replace("{tmp}", str(tmp)) for k, v in env_row.env.items()})
    runs = []
    if env_row.cli is not None:
        runs.append(("cli", [sys.executable, "-m", "compat", *_fill(env_row.cli, tmp, base)], ROOT))
    if env_row.gate is not None:
        cwd = ROOT
        gate = [sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider", "--compat-no-behaviour"]
        if env_row.project is not None:  # a project of its own: the installed gate, its pyproject
            cwd = tmp_path / "project"
            cwd.mkdir()
            (cwd / "pyproject.toml").write_text(env_row.project)
            gate = [sys.executable, "-m", "pytest", "--pyargs", "compat", "-q", "-p", "no:cacheprovider",
                    "--rootdir", str(cwd), "--compat-baseline", str(base), "--compat-no-behaviour"]
        runs.append(("gate", gate + _fill(env_row.gate, tmp, base), cwd))
    assert runs
    for front, argv, cwd in runs:
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env, timeout=900,
                              preexec_fn=_limited(env_row.file_limit))
        out = proc.stdout + proc.stderr
        assert "Traceback" not in out and "INTERNALERROR" not in out, (front, out[-3000:])
        if env_row.ok:
            assert proc.returncode == 0, (front, out[-3000:])
            assert env_row.named in out and env_row.says in out, (front, out[-3000:])
        elif front == "cli":
            assert proc.returncode == 2, out[-3000:]
            line = _one_line(proc.stderr)
            assert env_row.named in line and env_row.says in line and "internal error" not in line, line
        elif proc.returncode == 4:
            line = _one_line(proc.stderr)
            assert env_row.named in line and env_row.says in line, line
        else:
            assert proc.returncode == 1, out[-3000:]
            reasons = [ln for ln in proc.stdout.splitlines() if ln.startswith("compat: ") and env_row.named in ln]
            assert reasons and env_row.says in reasons[0], out[-3000:]
    # nothing lost, nothing left behind: the baseline, the temp dir, no process still running
    assert _digest(base) == before
    if env_row.untouched:
        path = tmp / env_row.untouched
        assert (_digest(path) if path.is_dir() else path.read_bytes()) == kept
    assert not [p for p in base.parent.iterdir() if p.name.startswith(".baseline.")]
    assert not [p for p in temp.iterdir() if p.name.startswith("compat-")], list(temp.iterdir())
    pid_file = tmp / "child.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        time.sleep(0.2)
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


# --- a baseline keeps what it recorded: digests, cells that match their files, its own reach map --
def _seal(base: Path) -> None:
    """What a recording writes into the manifest: the digest of every other file."""
    from compat.baseline import file_digests

    manifest = json.loads((base / "manifest.json").read_text())
    manifest["digests"] = file_digests(base)
    (base / "manifest.json").write_text(json.dumps(manifest))


def _static_copy(base: Path) -> None:
    """The shipped baseline without its behaviour layers: the static check alone, in seconds."""
    shutil.copytree(ROOT / "snapshots" / "baseline", base, ignore=shutil.ignore_patterns("traces", "reach.json", "fuzz"))
    manifest = json.loads((base / "manifest.json").read_text())
    manifest.update(cells=0, fuzz_programs=0, cell_set=None)
    manifest.pop("digests", None)
    (base / "manifest.json").write_text(json.dumps(manifest))


def test_a_hand_edit_since_recording_is_named_in_every_report(tmp_path):
    base = tmp_path / "baseline"
    _static_copy(base)
    _seal(base)
    edited = "profiles/corpus.json"  # still valid, every value the same: the bytes changed by hand
    (base / edited).write_text(json.dumps(json.loads((base / edited).read_text())))
    env = {**os.environ, "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache")}
    says = f"1 file changed by hand since it was recorded: {edited} (edited)"
    for fmt in ("json", "markdown"):
        report = tmp_path / f"r.{fmt}"
        cli = subprocess.run([sys.executable, "-m", "compat", "check", "--baseline", str(base), "--format", fmt,
                              "--report", str(report)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
        assert cli.returncode in (0, 1) and "Traceback" not in cli.stderr, cli.stderr
        text_lines = [ln for ln in cli.stdout.splitlines() if says in ln]
        assert text_lines and text_lines[0].startswith("warning: "), cli.stdout[:2000]
        if fmt == "json":
            warnings = json.loads(report.read_text())["warnings"]
            assert len(warnings) == 1 and says in warnings[0], warnings
        else:
            assert any(ln.startswith("> warning: ") and says in ln for ln in report.read_text().splitlines())
    gate = subprocess.run([sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider",
                           "--compat-baseline", str(base), "--compat-no-behaviour"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert any(ln.startswith("compat: warning: ") and says in ln for ln in gate.stdout.splitlines()), gate.stdout[-3000:]


def test_a_sealed_baseline_warns_of_nothing_and_an_old_manifest_is_read_with_a_note(tmp_path):
    from compat.baseline import Baseline

    base = tmp_path / "baseline"
    _static_copy(base)
    notes = Baseline(base).warnings
    assert len(notes) == 1 and notes[0].startswith("note: ") and "keeps no file digests" in notes[0], notes
    _seal(base)
    assert Baseline(base).warnings == []
    (base / "extra.json").write_text("{}")
    (base / "profiles" / "corpus.json").unlink()
    manifest = json.loads((base / "manifest.json").read_text())
    manifest["profiles"].remove("corpus.json")
    (base / "manifest.json").write_text(json.dumps(manifest))
    (warning,) = Baseline(base).warnings
    assert "2 files changed by hand" in warning and "extra.json (added)" in warning
    assert "profiles/corpus.json (removed)" in warning


@pytest.mark.parametrize("foreign", ["another-release", "edited-since-sealed"])
def test_a_foreign_reach_map_means_a_full_replay_with_a_warning(tmp_path, foreign):
    from compat.baseline import Baseline
    from compat.static.extract import installed_search_paths

    base = tmp_path / "baseline"
    # the old release's traces, the installed release's reach map: it would say nothing changed
    shutil.copytree(ROOT / "snapshots" / "baseline-1.11.4", base)
    if foreign == "edited-since-sealed":
        _seal(base)
        reach = json.loads((base / "reach.json").read_text())
        reach["cells"] = {k: "" for k in reach["cells"]}  # every cell says it reached nothing
        (base / "reach.json").write_text(json.dumps(reach))
    else:
        shutil.copy(ROOT / "snapshots" / "baseline" / "reach.json", base / "reach.json")
    loaded = Baseline(base)
    chosen = loaded.selection(sys.executable, installed_search_paths())
    assert chosen.everything and "not this recording's" in chosen.reason, chosen.reason
    assert any(w.startswith("warning: ") and "reach.json is not this recording's" in w for w in loaded.warnings)
    if foreign == "another-release":  # and the gate says so in its summary
        env = {**os.environ, "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache")}
        gate = subprocess.run([sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider",
                               "--compat-baseline", str(base), "-k", "storage_wipe__memory and spy and not spy-"],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
        lines = gate.stdout.splitlines()
        assert any(ln.startswith("compat: warning: ") and "reach.json is not this recording's" in ln for ln in lines)
        assert any(ln.startswith("compat: replayed") and "the reach map is not this recording's" in ln for ln in lines)


def test_a_bidi_override_in_a_name_is_shown_escaped_in_every_report(tmp_path):
    """A member of the baseline named with a right-to-left override (and a terminal escape) is a
    finding like any other; every report shows the name escaped, none obeys it."""
    base = tmp_path / "baseline"
    _static_copy(base)
    spoof = "_evil\u202eyxp.\x1b[2J"
    path = base / "surface.json"
    data = json.loads(path.read_text())
    data["members"][spoof] = {**data["members"][sorted(data["members"])[0]], "name": spoof}
    path.write_text(json.dumps(data))
    env = {**os.environ, "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache")}
    shown = "_evil\\u202eyxp.\\u001b[2J"
    for fmt in ("json", "markdown", "junit", "github"):
        report = tmp_path / f"r.{fmt}"
        cli = subprocess.run([sys.executable, "-m", "compat", "check", "--baseline", str(base), "--format", fmt,
                              "--report", str(report)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
        assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli.stderr[-2000:]
        for text in (cli.stdout, report.read_text()):
            assert "\u202e" not in text and "\x1b" not in text, fmt
        assert shown in cli.stdout and shown in report.read_text(), (fmt, cli.stdout[:2000])
        if fmt == "json":  # the escape is JSON's own: the data keeps the name as recorded
            assert any(f["member"] == spoof for f in json.loads(report.read_text())["findings"])
    gate = subprocess.run([sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider",
                           "--compat-baseline", str(base), "--compat-no-behaviour"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert gate.returncode == 1 and "\u202e" not in gate.stdout and "\x1b" not in gate.stdout, gate.stdout[-2000:]
    assert shown in gate.stdout, gate.stdout[-3000:]


_EXIT_ON_IMPORT = """
import importlib.machinery, os, sys


class _ExitOnImportingDagster:
    \"\"\"dagster is found as usual; running its __init__ ends the interpreter with code 0.\"\"\"
    def find_spec(self, name, path=None, target=None):
        if name != "dagster":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None:
            spec.loader.exec_module = lambda module: os._exit(0)
        return spec


sys.meta_path.insert(0, _ExitOnImportingDagster())
"""


def test_a_new_side_whose_import_exits_the_interpreter_is_a_finding(tmp_path):
    """`import dagster` that calls os._exit(0): the side cannot import the target, which the docs
    make a breaking finding (exit 1), not a harness failure (exit 2)."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "sitecustomize.py").write_text(_EXIT_ON_IMPORT)
    python = tmp_path / "py"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={overlay} exec {sys.executable} "$@"\n')
    python.chmod(0o755)
    base = tmp_path / "baseline"
    shutil.copytree(ROOT / "snapshots" / "baseline", base)
    env = {**os.environ, "COMPAT_QUIET": "1", "COMPAT_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(tmp_path)}
    cli = subprocess.run([sys.executable, "-m", "compat", "check", "--baseline", str(base), "--python", str(python),
                          "--format", "json"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli.stderr[-2000:]
    (found,) = [f for f in json.loads(cli.stdout)["findings"] if f["rule"] == "target-import-failed"]
    assert "exited with code 0 while importing dagster" in found["message"], found
    # dagster's files are the recorded ones (the interpreter's start-up is what exits): the cell
    # runs all the same, since a side that cannot import the target replays everything
    gate = subprocess.run([sys.executable, "-m", "pytest", "compat", "-q", "-p", "no:cacheprovider",
                           "--compat-baseline", str(base), "--compat-python", str(python), "--tb=short",
                           "-k", "storage_wipe__memory and spy and not spy-"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    out = gate.stdout + gate.stderr
    assert gate.returncode == 1 and "Traceback" not in out and "INTERNALERROR" not in out, out[-3000:]
    assert "1 failed" in gate.stdout and "no longer run" in gate.stdout, gate.stdout[-3000:]
    assert "the new side cannot import dagster._core.instance:DagsterInstance" in gate.stdout, gate.stdout[-3000:]


def test_cells_the_recording_predates_are_named_in_every_report_and_a_hole_is_refused(tmp_path):
    """A scenario the harness gained since the recording has no trace in the baseline: its cells
    are not checked, and the baseline's warnings (which every report prints under the verdict,
    as the hand-edit test shows) say so. A cell missing from inside the
    recorded grid (its subclass, scenario and storage all recorded) is a damaged baseline."""
    from compat.baseline import Baseline
    from compat.model.errors import CompatError

    base = tmp_path / "baseline"
    shutil.copytree(ROOT / "snapshots" / "baseline", base, ignore=lambda d, names: [
        n for n in names if d.endswith("traces") and "__storage_wipe__" in n])
    gone = len(list((ROOT / "snapshots" / "baseline" / "traces").glob("*__storage_wipe__*.json")))
    _edit_json("manifest.json", lambda d: d.update(cells=d["cells"] - gone))(base)
    _seal(base)  # a recording of its own: only the scenarios it predates are missing
    from compat.behaviour import replay

    missing = len(replay.plan_cells(cell_set="gate")) - len(list((base / "traces").glob("*.json")))
    assert missing >= gone
    says = f"{missing} cells of the 'gate' cell set have no trace (scenario "
    (warning,) = Baseline(base).warnings
    assert says in warning and "newer than the recording), not checked" in warning, warning
    _drop_cell("traces/spy__runs_lifecycle__sqlite.json")(base)
    with pytest.raises(CompatError, match="spy__runs_lifecycle__sqlite.json: a cell of the 'gate' cell set with no trace"):
        Baseline(base)

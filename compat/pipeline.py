"""The one pipeline: `check(old, new)` runs every check of a new side against an old one.

``old`` is a recorded :class:`~compat.baseline.Baseline` or a :class:`~compat.sides.Side`
(recorded into a temporary baseline first); ``new`` is a side. The steps, in order: the new
surface; the surface rules and the profile checks (static, no environment needed); whether
the new side imports the target at all (if not, that is a breaking finding and nothing is
replayed); the behaviour cells and the stored fuzz programs replayed on the new side's interpreter; live
fuzzing when asked; accepted findings set aside. The result carries the causes.

`compat check`, `compat compare` and `compat mutate` call it; the gate runs the same steps one
test at a time (compat/plugin.py over compat/gate/gate.py) and builds the same :class:`~compat.result.CheckResult`.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Any, Callable

from compat import envs
from compat.behaviour import replay as behaviour_mod
from compat.behaviour.compare import import_finding, missing_import
from compat.behaviour.selection import Selection
from compat.fuzz.differential import mismatch_finding, replay_programs, run_fuzz
from compat.gate import accepted as accepted_mod
from compat.model import jsonio
from compat.model.errors import CompatError
from compat.baseline import Baseline, file_digests
from compat.model.baseline import SCHEMA, VERSION, surface_label
from compat.model.findings import Finding
from compat.record import record_baseline, record_profiles
from compat.result import CheckResult
from compat.sides import Side
from compat.static.diff import compare_surfaces
from compat.static.extract import DEFAULT_TARGET, side_surface, write_surface
from compat.static.profile_checks import check_profile_change


def _noop(msg: str) -> None:
    pass


def check(
    old: Baseline | Side,
    new: Side,
    *,
    target: str | None = None,
    jobs: int = 1,
    behaviour: bool = True,
    cell_set: str | None = None,
    fuzz_examples: int = 0,
    progress: Callable[[str], None] = _noop,
    timings: list[str] | None = None,
    path_prefix: str | None = None,
    full: bool = False,
) -> CheckResult:
    """Every finding of `new` against `old`, with the causes behind them. The behaviour cells
    and stored programs are replayed only where the new side changed a function they executed
    (:mod:`compat.behaviour.reach`), all of them with ``full`` or without a reach map."""
    timings = [] if timings is None else timings

    def step(what: str, fn):
        progress(what)
        started = time.perf_counter()
        value = fn()
        timings.append(f"{what}: {time.perf_counter() - started:.1f}s")
        return value

    if isinstance(old, Side):
        target = target or DEFAULT_TARGET
        base = step(f"recording {old.label}" + (f" ({jobs} worker(s))" if behaviour else " (static)"),
                    lambda: cached_record(old, target=target, behaviour=behaviour, jobs=jobs,
                                          cell_set=cell_set, progress=progress))
        old_label = old.label
    else:
        base = old
        target = base.target_for(target)
        old_label = base.label
        progress(f"checking {target} against baseline {base.path} ({base.label})")
    new_surface = step(f"surface of {new.label}", lambda: side_surface(new, target))
    new_label = surface_label(new_surface) if new.installed else new.label
    findings = step("comparing surfaces and checking profiles",
                    lambda: static_findings(base, new_surface, new.search_paths))
    selection = None
    if behaviour:
        replayed, selection, behaviour = _behaviour_findings(base, new, target, (old_label, new_label), jobs=jobs,
                                                             full=full, step=step, progress=progress)
        findings += replayed
    if fuzz_examples and behaviour and isinstance(old, Side):
        outcome = step(f"fuzzing {fuzz_examples} programs",
                       lambda: run_fuzz(old.python, new.python, max_examples=fuzz_examples,
                                        labels=(old_label, new_label)))
        if outcome.mismatch is not None:
            findings.append(mismatch_finding(outcome.mismatch, (old_label, new_label)))
    open_, taken = accepted_mod.split(findings, base.accepted)
    open_ += accepted_mod.stale_findings(findings, base.accepted)
    profiles = [p for _, p in base.profiles()]
    title = f"{target}: baseline {old_label} -> {new_label}" if not isinstance(old, Side) else None
    return CheckResult(target=target, old_label=old_label, new_label=new_label, findings=open_,
                       old_surface=base.surface, new_surface=new_surface, profiles=profiles, title=title,
                       path_prefix=new.repo_prefix() if path_prefix is None else path_prefix,
                       accepted=accepted_mod.reasons(taken, base.accepted),
                       replay=selection.as_dict() if selection is not None else None, warnings=list(base.warnings))


def _behaviour_findings(base: Baseline, new: Side, target: str, labels: tuple[str, str], *, jobs: int, full: bool,
                        step: Callable[[str, Callable[[], Any]], Any],
                        progress: Callable[[str], None]) -> tuple[list[Finding], Selection | None, bool]:
    """The behaviour half of :func:`check`: whether the new side imports the target at all (if
    not, that is the finding and nothing runs), which recorded cells and stored programs the
    change can reach, and their replay on the new side. Returns the findings, the selection
    (None when nothing is recorded or the target does not import) and whether the behaviour
    steps may go on (live fuzzing does not, on a side that cannot import the target)."""
    if not (base.trace_files() or base.programs()):
        return [], None, True
    old_label, new_label = labels
    # a new side that cannot import the target runs no cell at all: that is the finding
    broken = step(f"importing {target} on {new_label}", lambda: behaviour_mod.import_failure(new.python, target))
    if broken is not None:
        return [import_finding(broken)], None, False
    findings: list[Finding] = []
    selection = step("choosing what the change can reach", lambda: base.selection(new.python, new.search_paths, full=full))
    progress(selection.line())
    # the cells' workers and the programs' are forks of one warmed interpreter: dagster is imported
    # and the start-up run once for both steps, and the programs share the workers too
    server = behaviour_mod.fork_server(new.python, jobs) if selection.cells or selection.programs else None
    try:
        if selection.cells:
            findings += step(f"replaying {len(selection.cells)} of {selection.total_cells} behaviour cells on "
                             f"{new_label}", lambda: behaviour_mod.replay(str(base.path), new.python, jobs=jobs,
                                                                          only=selection.cells, server=server,
                                                                          dagster=base.dagster))
        if selection.programs:
            findings += step(f"replaying {len(selection.programs)} of {selection.total_programs} stored fuzz programs",
                             lambda: _programs_or_missing_name(base.programs(), new.python, (old_label, new_label),
                                                               selection.programs, jobs=jobs,
                                                               server=server.path if server is not None else None))
    finally:
        if server is not None:
            server.close()
    return findings, selection, True


def static_findings(base: Baseline, new_surface, search_paths: list[str] | None = None) -> list[Finding]:
    """Surface rules plus profile checks (what a profile uses that the old side has and the new
    side changed); `search_paths` (where the new surface was read from) lets the profile checks
    also read the new base's actual calls of each override."""

    findings = list(compare_surfaces(base.surface, new_surface))
    for name, prof in base.profiles():
        for f in check_profile_change(prof, base.surface, new_surface, search_paths=search_paths):
            f.details = {**f.details, "profile": name}
            findings.append(f)
    return findings


def _programs_or_missing_name(programs, python: str, labels: tuple[str, str], only, *, jobs: int = 1,
                              server: str | None = None) -> list:
    """The stored programs replayed; a worker that cannot start because the new dagster no longer
    exports a name it imports is a finding of the change that removed the export, not exit 2."""
    try:
        return replay_programs(programs, python, labels, only=only, jobs=jobs, server=server)
    except CompatError as e:
        missing = missing_import(str(e))
        if missing is None:
            raise
        return [import_finding({"exception": f"ImportError: cannot import name '{missing[0]}' "
                                                           f"from '{missing[1]}'", "module": None, "line": None})]


# Code that never runs while a side is recorded (the commands, the renderers, the tools built
# on the pipeline): editing it must not throw away hours of recordings a history has made.
# what a recording does not run: the commands, the comparison and its causes, the reports (a
# history's recordings survive edits of these; its comparisons do not, see comparing_digest)
_NOT_RECORDING = ("cli.py", "commands.py", "options.py", "__main__.py", "report.py", "progress.py", "causes/", "result.py", "plugin.py",
                  "witness.py", "witness_programs.py", "witness_typing.py", "typecheck.py", "gate/", "tools/")
_PRESENTATION = ("cli.py", "commands.py", "options.py", "__main__.py", "report.py", "progress.py")


def check_recorded(old: Baseline, new: Baseline, new_side: Side, *, behaviour: bool = True) -> CheckResult:
    """`new` against `old` when both sides are already recorded (a release history): the same
    static steps as :func:`check`, and the new side's recorded traces compared cell by cell with
    the old ones instead of replayed, since a recording runs the very cells a replay would."""
    target = old.target
    findings = static_findings(old, new.surface, new_side.search_paths)
    if behaviour and old.trace_files():
        findings += behaviour_mod.compare_dirs(str(old.path), str(new.path))
    return CheckResult(target=target, old_label=old.label, new_label=new.label, findings=findings,
                       old_surface=old.surface, new_surface=new.surface, profiles=[p for _, p in old.profiles()],
                       path_prefix="")


def _digest(skip: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    envs.sources_digest(h, root, root, skip=skip)
    return h.hexdigest()


def recording_digest() -> str:
    """The harness's own code that a recording runs (extraction, scenarios, corpus, spies,
    normalizer, ...): a recording made by other code is never reused."""
    return _digest(_NOT_RECORDING)


def comparing_digest() -> str:
    """The code that turns two recordings into causes: a cached comparison made by other code
    is never reused (every module but the commands and the renderers)."""
    return _digest(_PRESENTATION)


def cached_record(side: Side, *, target: str, behaviour: bool = True, jobs: int = 1, cell_set: str | None = None,
                  progress: Callable[[str], None] = _noop) -> Baseline:
    """The recording of `side`, made once per content (a release, a commit, the bytes of a tree)
    and harness version, and reused from the cache after that."""
    key = hashlib.sha256("\0".join([
        recording_digest(), side.content_digest(), target, str(behaviour), str(cell_set), "programs",
        f"py{sys.version_info[0]}.{sys.version_info[1]}",
        # the environment a recording ran in mirrors the harness's venv (compat.envs.harness_pins)
        *(envs.harness_pins()[0] if behaviour and not side.installed else []),
    ]).encode()).hexdigest()[:24]
    dest = envs.cache_dir() / "recordings" / key
    if (dest / ".complete").exists():
        progress(f"reusing the recording of {side.label} (cached by content)")
        return Baseline(dest / "baseline")
    def fill(tmp: Path) -> str:
        record_side(side, tmp / "baseline", target=target, behaviour=behaviour, jobs=jobs, cell_set=cell_set)
        return side.label + "\n"

    envs.build_once(dest, f"recording-{key}", fill)
    return Baseline(dest / "baseline")


def record_side(side: Side, out: Path, *, target: str, behaviour: bool = True, jobs: int = 1,
                cell_set: str | None = None) -> Baseline:
    """A baseline of `side`: recorded in its own environment, or from static sources only."""
    if behaviour:
        # with the stored fuzz programs, as `compat baseline` records them: a baseline taken from
        # this recording (`baseline --old .@master`) gates the same layers as the shipped one
        record_baseline(out, python=None if side.installed else side.python, target=target, jobs=jobs,
                        cell_set=cell_set)
    else:
        record_static_baseline(out, side, target)
    return Baseline(out)


def record_static_baseline(out: Path, side: Side, target: str) -> None:
    """A baseline without traces, from static sources only (no environment is built)."""

    surface = side_surface(side, target)
    write_surface(surface, out / "surface.json")
    profiles = record_profiles(out / "profiles", surface, None, target, _noop, dagster_paths=side.search_paths)
    jsonio.write_json(out / "manifest.json", {"schema": SCHEMA, "schema_version": VERSION, "target": target,
                                              "generator": surface.generator, "profiles": profiles, "cells": 0,
                                              "digests": file_digests(out)})


__all__ = ["check", "check_recorded", "cached_record", "record_side", "record_static_baseline", "static_findings"]

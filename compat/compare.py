"""`compat compare --old SPEC --new SPEC`: every check of two dagsters in one report.

Surfaces (static, from unpacked wheels or source trees), subclass profiles against the new
surface, behaviour recorded on the old dagster and replayed on the new one, and optionally
differential fuzzing. Environments are built once and cached (see compat.envs).
"""

from __future__ import annotations

import sys
import tempfile
import time
from typing import Callable

from compat import envs
from compat.result import CheckResult


def _resolve(spec_text: str):
    """(label, static search paths, python) for a SPEC or `installed`."""
    from compat.surface import installed_search_paths

    if spec_text == "installed":
        from importlib.metadata import version

        return f"dagster {version('dagster')}", installed_search_paths(), sys.executable, "installed"
    spec = envs.parse_spec(spec_text)
    return spec.label, None, spec, spec.label if spec.version else "spec"


def compare(
    old: str,
    new: str,
    *,
    target: str,
    jobs: int = 1,
    fuzz_examples: int = 0,
    behaviour: bool = True,
    cell_set: str | None = None,
    progress: Callable[[str], None] = lambda m: None,
) -> CheckResult:
    from compat.baseline import static_findings, Baseline, record_baseline
    from compat.surface import snapshot

    timings: list[str] = []

    def step(what: str, fn):
        progress(what)
        t = time.perf_counter()
        value = fn()
        timings.append(f"{what}: {time.perf_counter() - t:.1f}s")
        return value

    sides = []
    for text in (old, new):
        label, paths, spec_or_python, source = _resolve(text)
        if paths is None:
            paths = step(f"fetching {label} for static loading", lambda: envs.search_paths_for(spec_or_python))
        sides.append((label, paths, spec_or_python, source))
    (old_label, old_paths, old_env, old_source), (new_label, new_paths, new_env, new_source) = sides
    new_surface = step(f"surface of {new_label}", lambda: snapshot(target, new_paths, source=new_source))

    def python(env) -> str:
        return env if isinstance(env, str) else envs.python_for(env)

    with tempfile.TemporaryDirectory(prefix="compat-compare-") as tmp:
        if behaviour:
            old_python = step(f"environment for {old_label}", lambda: python(old_env))
            new_python = step(f"environment for {new_label}", lambda: python(new_env))
            step(f"recording surface, profiles and behaviour on {old_label} ({jobs} worker(s))",
                 lambda: record_baseline(f"{tmp}/baseline", python=old_python if old_env is not sys.executable else None,
                                         target=target, jobs=jobs, cell_set=cell_set, fuzz_programs=0))
        else:
            step(f"recording surface and profiles of {old_label}",
                 lambda: _static_baseline(f"{tmp}/baseline", old_paths, target, old_source))
        base = Baseline(f"{tmp}/baseline")
        old_surface, profiles = base.surface, [p for _, p in base.profiles()]
        findings = step("comparing surfaces and checking profiles", lambda: static_findings(base, new_surface, new_paths))
        if behaviour:
            from compat import behaviour as behaviour_mod

            findings += step(f"replaying {len(base.trace_files())} behaviour cells on {new_label}",
                             lambda: behaviour_mod.replay(str(base.path), new_python, jobs=jobs))
    if fuzz_examples and behaviour:
        from compat.fuzz import mismatch_finding, run_fuzz

        result = step(f"fuzzing {fuzz_examples} programs",
                      lambda: run_fuzz(old_python, new_python, max_examples=fuzz_examples, labels=(old_label, new_label)))
        if result.mismatch is not None:
            findings.append(mismatch_finding(result.mismatch, (old_label, new_label)))
    for line in timings:
        progress(f"  {line}")
    return CheckResult(target=target, old_label=old_label, new_label=new_label, findings=findings,
                       old_surface=old_surface, new_surface=new_surface, profiles=profiles)


def _static_baseline(out: str, paths: list[str], target: str, source: str) -> None:
    """A baseline without traces, from static sources only (no environment needed)."""
    from pathlib import Path

    from compat import jsonio
    from compat.baseline import SCHEMA, VERSION, _record_profiles
    from compat.surface import snapshot, write_surface

    root = Path(out)
    surface = snapshot(target, paths, source=source)
    write_surface(surface, root / "surface.json")
    profiles = _record_profiles(root / "profiles", surface, None, target, lambda m: None, dagster_paths=paths)
    jsonio.write_json(root / "manifest.json", {"schema": SCHEMA, "schema_version": VERSION, "target": target,
                                                "generator": surface.generator, "profiles": profiles, "cells": 0})

"""What the behaviour scenarios execute of the target: coverage.py across the worker processes.

``measure`` runs a cell set in worker processes of an interpreter with coverage.py started in
each worker (restricted to the target's package, ``dagster/_core/instance/**`` for
DagsterInstance), combines their data files and reports, per public and protected member of
the target (the definition a subclass reaches, see :mod:`compat.behaviour.members`), whether
any scenario runs its body and which of its lines none runs; and the line coverage of the
whole package; its branches; which of its ``raise`` statements run; and which parameters with a
default some call gives another value (:mod:`compat.behaviour.paramcov`). Members that a real subclass or a corpus class touches (overrides, calls,
reads; from the profiles) are marked, since those are the ones a refactor must keep
behaving: an unexecuted one is a blind spot of the gate.

In:  an interpreter with dagster and coverage, a cell set, profiles. Out: a CoverageReport.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from compat import envs, tempdirs
from compat.behaviour import paramcov
from compat.behaviour.reach import ranges
from compat.behaviour.replay import plan_cells, run_cells
from compat.model.errors import CompatError

DEFAULT_TARGET = "dagster._core.instance:DagsterInstance"
DATA_ENV = "COMPAT_COVERAGE_DATA"  # the worker starts coverage.py when this names a data file
SOURCE_ENV = "COMPAT_COVERAGE_SOURCE"  # the package it measures


@dataclass
class MemberCoverage:
    name: str
    kind: str
    defined_in: str
    lines: int  # executable lines of its body
    missed: list[int] = field(default_factory=list)
    reachable: bool = False  # a corpus class or a real subclass overrides, calls or reads it
    files: list[str] = field(default_factory=list)

    @property
    def executed(self) -> bool:
        return self.lines > 0 and len(self.missed) < self.lines

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "defined_in": self.defined_in, "lines": self.lines,
                "missed": ranges(self.missed), "executed": self.executed, "reachable": self.reachable}


@dataclass(frozen=True)
class ParamCoverage:
    member: str
    name: str
    none_allowed: bool
    tags: tuple[str, ...] = ()  # "other": some call passed a non-default value; "none": some passed None

    @property
    def exercised(self) -> bool:
        return "other" in self.tags

    def as_dict(self) -> dict[str, Any]:
        return {"member": self.member, "name": self.name, "none_allowed": self.none_allowed, "tags": list(self.tags)}


@dataclass(frozen=True)
class RaiseSite:
    file: str
    line: int
    function: str
    reached: bool

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function, "reached": self.reached}


@dataclass
class CoverageReport:
    target: str
    cell_set: str
    cells: int
    members: list[MemberCoverage]
    package_lines: int
    package_executed: int
    files: dict[str, list[int]] = field(default_factory=dict)  # file -> [statements, executed]
    branches: dict[str, list[int]] = field(default_factory=dict)  # file -> [branches, taken]
    params: list[ParamCoverage] = field(default_factory=list)
    raises: list[RaiseSite] = field(default_factory=list)

    def _with_code(self, reachable: bool = False) -> list[MemberCoverage]:
        return [m for m in self.members if m.lines and (m.reachable or not reachable)]

    def summary(self) -> dict[str, Any]:
        code = self._with_code()
        reach = self._with_code(reachable=True)
        return {
            "cell_set": self.cell_set, "cells": self.cells,
            "members": len(code), "members_executed": sum(m.executed for m in code),
            "reachable": len(reach), "reachable_executed": sum(m.executed for m in reach),
            "lines": self.package_lines, "lines_executed": self.package_executed,
            "line_rate": round(self.package_executed / self.package_lines, 4) if self.package_lines else 0.0,
            "params": len(self.params), "params_exercised": sum(p.exercised for p in self.params),
            "params_none_allowed": sum(p.none_allowed for p in self.params),
            "params_none_passed": sum(p.none_allowed and "none" in p.tags for p in self.params),
            "branches": sum(b for b, _ in self.branches.values()),
            "branches_taken": sum(t for _, t in self.branches.values()),
            "raises": len(self.raises), "raises_reached": sum(r.reached for r in self.raises),
        }

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "summary": self.summary(),
                "files": {f: {"statements": s, "executed": e, "branches": self.branches.get(f, [0, 0])[0],
                              "branches_taken": self.branches.get(f, [0, 0])[1]}
                          for f, (s, e) in sorted(self.files.items())},
                "members": [m.as_dict() for m in self.members],
                "params": [p.as_dict() for p in self.params],
                "raises": [r.as_dict() for r in self.raises]}

    def render(self, verbose: bool = False) -> str:
        s = self.summary()
        lines = [
            f"behaviour coverage of {self.target} ({s['cell_set']} cells: {s['cells']})",
            f"  members executed: {s['members_executed']}/{s['members']} public+protected members with code "
            f"({s['reachable_executed']}/{s['reachable']} that a corpus class or a real subclass reaches)",
            f"  lines executed:   {s['lines_executed']}/{s['lines']} ({100 * s['line_rate']:.1f}%) of the package",
            f"  branches taken:   {s['branches_taken']}/{s['branches']} ({_pct(s['branches_taken'], s['branches'])})"
            f" of the package",
            f"  raises reached:   {s['raises_reached']}/{s['raises']} ({_pct(s['raises_reached'], s['raises'])})"
            f" `raise` statements of the package",
            f"  parameters:       {s['params_exercised']}/{s['params']} ({_pct(s['params_exercised'], s['params'])})"
            f" with a default (or *args/**kwargs) given another value by some call; None passed to "
            f"{s['params_none_passed']}/{s['params_none_allowed']} that allow it",
        ]
        missed = [m for m in self._with_code() if not m.executed]
        if missed:
            lines.append("  never executed (reachable first):")
            for m in sorted(missed, key=lambda m: (not m.reachable, m.name)):
                lines.append(f"    {'*' if m.reachable else ' '} {m.name:<48} {m.kind:<12} {m.defined_in}")
        unpassed = [p for p in self.params if not p.exercised]
        if verbose and unpassed:
            lines.append("  parameters no call gives another value than the default:")
            for p in unpassed:
                lines.append(f"      {p.member}({p.name})")
        unreached = [r for r in self.raises if not r.reached]
        if verbose and unreached:
            lines.append("  raises never reached:")
            for r in unreached:
                lines.append(f"      {r.file}:{r.line:<6} {r.function}")
        partial = [m for m in self._with_code() if m.executed and m.missed]
        if verbose and partial:
            lines.append("  executed, lines missed:")
            for m in sorted(partial, key=lambda m: m.name):
                lines.append(f"      {m.name:<48} {len(m.missed)}/{m.lines} missed: {ranges(m.missed)}")
        return "\n".join(lines)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def raise_sites(path: Path) -> list[tuple[int, str]]:
    """Every ``raise`` statement of a source file, with the (dotted) function it is in."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[int, str]] = []

    def walk(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                walk(child, scope + [child.name])
            else:
                if isinstance(child, ast.Raise):
                    out.append((child.lineno, ".".join(scope) or "(module)"))
                walk(child, scope)

    walk(tree, [])
    return sorted(out)


def _branches(cov: Any, pkg_dir: str, tmp: str) -> dict[str, list[int]]:
    """Per package file, its branches and those taken, from coverage.py's JSON report."""
    out_file = os.path.join(tmp, "cov.json")
    cov.json_report(outfile=out_file, include=[os.path.join(pkg_dir, "*")])
    with open(out_file, encoding="utf-8") as fh:
        data = json.load(fh)
    out: dict[str, list[int]] = {}
    for path, info in (data.get("files") or {}).items():
        summary = info.get("summary") if isinstance(info, dict) else None
        if not isinstance(summary, dict) or not isinstance(summary.get("num_branches"), int):
            raise CompatError(f"coverage.py's report has no branch counts for {path}")
        rel = os.path.relpath(os.path.realpath(path), pkg_dir)
        out[rel] = [summary["num_branches"], summary["covered_branches"]]
    return out


def describe_members(python: str, target: str = DEFAULT_TARGET) -> dict[str, Any]:
    """The member map of the target as the interpreter ``python`` resolves it."""
    from compat.envs import PROJECT_ROOT

    python = os.path.abspath(python) if os.sep in python else python
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DAGSTER_DISABLE_TELEMETRY": "1"}
    with tempfile.TemporaryDirectory(prefix="compat-members-") as home:
        env.update({"HOME": home, "DAGSTER_HOME": home})
        try:
            proc = tempdirs.run([python, "-m", "compat.behaviour.members", target], capture_output=True, text=True,
                                env=env, cwd=home, timeout=300)
        except subprocess.TimeoutExpired:
            raise CompatError(f"listing the members of {target} with {python} hung for 300s") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise CompatError(f"cannot list the members of {target} with {python}: {tail}")
    return json.loads(proc.stdout)


def reachable_members(profiles: Iterable[Any]) -> set[str]:
    """Members of the target that the profiled subclasses override, call, read or hook into."""
    names: set[str] = set()
    for profile in profiles:
        data = profile if isinstance(profile, dict) else profile.as_dict()
        for sub in (data.get("subclasses") or {}).values():
            for key in ("base_members", "base_attributes", "overrides", "hooks"):
                names |= set(sub.get(key) or {})
            names |= {c.get("name") for c in sub.get("super_calls") or [] if c.get("name")}
    return names


def corpus_overrides() -> set[str]:
    """Members the shipped corpus classes define themselves (overrides of the target's members
    among them), read from the classes: a profile lists only what its extractor resolves."""
    import importlib

    from compat import corpus

    names: set[str] = set()
    for spec in corpus.CORPUS.values():
        module_name, _, class_name = spec.partition(":")
        if module_name.startswith("compat."):
            cls = getattr(importlib.import_module(module_name), class_name)
            for klass in cls.__mro__:
                if klass.__module__.startswith("compat."):
                    names |= set(vars(klass))
    return names


def load_profiles(paths: Iterable[Path]) -> list[dict]:
    out = []
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            out.append(json.load(fh))
    return out


def measure(python: str, *, cell_set: str = "gate", jobs: int = 1, scenarios=None, subclasses=None,
            storages=None, target: str = DEFAULT_TARGET, profiles: Iterable[Any] = ()) -> CoverageReport:
    """Run the cells under coverage.py in ``python``'s workers and report on the target."""
    try:
        import coverage
    except ImportError:
        raise CompatError("coverage is not installed in the harness's interpreter (pip install coverage)") from None
    described = describe_members(python, target)
    pkg_dir = described["package_dir"]
    cells = plan_cells(subclasses, scenarios, storages, cell_set)
    with tempfile.TemporaryDirectory(prefix="compat-coverage-") as tmp:
        data_file = os.path.join(tmp, "cov.data")
        params_prefix = os.path.join(tmp, "params")
        with envs.environ(**{DATA_ENV: data_file, SOURCE_ENV: pkg_dir, paramcov.PARAMS_ENV: params_prefix,
                             paramcov.TARGET_ENV: target}):
            run_cells(python, cells, jobs=jobs)
        cov = coverage.Coverage(data_file=data_file, config_file=False)
        parts = [str(p) for p in Path(tmp).glob("cov.data.*")]
        if not parts:
            raise CompatError(f"the workers on {python} wrote no coverage data (is coverage installed there?)")
        cov.combine(parts, keep=True)
        data = cov.get_data()
        executed: dict[str, set[int]] = {os.path.realpath(f): set(data.lines(f) or ()) for f in data.measured_files()}
        files: dict[str, list[int]] = {}
        statements: dict[str, set[int]] = {}
        raises: list[RaiseSite] = []
        for path in sorted(Path(pkg_dir).rglob("*.py")):
            real = os.path.realpath(path)
            _, stmts, _, _, _ = cov.analysis2(real)
            statements[real] = set(stmts)
            rel = os.path.relpath(real, pkg_dir)
            files[rel] = [len(stmts), len(set(stmts) & executed.get(real, set()))]
            raises += [RaiseSite(rel, line, fn, line in executed.get(real, set())) for line, fn in raise_sites(path)]
        branches = _branches(cov, pkg_dir, tmp)
        try:
            passed = paramcov.combine(params_prefix)
        except (OSError, ValueError) as exc:
            raise CompatError(f"the workers' parameter records cannot be read: {exc}") from None
    reach = reachable_members(profiles) | corpus_overrides()
    members = []
    for name, info in sorted(described["members"].items()):
        total: set[tuple[str, int]] = set()
        missed: list[int] = []
        for rel, first, last in info["spans"]:
            real = os.path.realpath(os.path.join(pkg_dir, rel))
            body = {n for n in statements.get(real, set()) if first <= n <= last}
            total |= {(rel, n) for n in body}
            missed += sorted(body - executed.get(real, set()))
        members.append(MemberCoverage(name, info["kind"], info["class"], len(total), missed, name in reach,
                                      sorted({s[0] for s in info["spans"]})))
    params = [ParamCoverage(name, p["name"], p["none_allowed"], tuple(sorted(passed.get(name, {}).get(p["name"], ()))))
              for name, info in sorted(described["members"].items()) for p in info.get("params") or ()]
    return CoverageReport(target=target, cell_set=cell_set, cells=len(cells), members=members,
                          package_lines=sum(s for s, _ in files.values()),
                          package_executed=sum(e for _, e in files.values()), files=files,
                          branches=branches, params=params, raises=raises)

"""The pre-merge gate behind `pytest compat/`: settings, findings per member/profile/cell.

Everything here is plain Python so the pytest plugin (compat/plugin.py) stays a thin layer:
settings come from command-line options, then `[tool.compat]` in pyproject.toml, then the
defaults; the findings are grouped so that each test names one member, one profile or one
behaviour cell.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path

from compat import envs, sides
from compat.behaviour.selection import Selection
from compat.behaviour.replay import import_failure
from compat.causes import effective_severities, policy_severity
from compat.fuzz.differential import program_id
from compat.gate import accepted as accepted_mod
from compat.model import jsonio, schemas
from compat.baseline import Baseline
from compat.model.baseline import PROJECT_ROOT, surface_label
from compat.model.baseline import SCHEMA as BASELINE_SCHEMA
from compat.model.baseline import VERSION as BASELINE_VERSION
from compat.model.errors import CompatError
from compat.model.text import escape_unsafe
from compat.model.findings import FAIL_ON, Finding, at_or_above, sort_findings, typing_only
from compat.result import CheckResult
from compat.catalogue import RULES
from compat.rules.registry import REPLAY_LAYERS
from compat.static.diff import compare_surfaces
from compat.static.extract import installed_search_paths, snapshot
from compat.static.profile_checks import check_profile_change

DEFAULT_BASELINE = "snapshots/baseline"
CLASS_MEMBER = "<class>"


@dataclass
class Settings:
    baseline: Path
    target: str | None
    update: bool
    report: Path | None
    fail_on: str
    python: str | None
    behaviour: bool
    path_prefix: str | None = None
    full: bool = False  # replay every cell and program, not only what the change can reach
    # run each cause's witness on the release the baseline was recorded from and on the dagster
    # under check, for the report (--compat-witness; it builds that release's environment)
    witness: bool = False

    @classmethod
    def resolve(cls, options: dict, rootdir: Path, cwd: Path | None = None) -> Settings:
        """Command-line options win over `[tool.compat]`, which wins over the defaults. A path on
        the command line is relative to where pytest was started (`cwd`), one in `[tool.compat]`
        to the project (`rootdir`)."""
        table = tool_compat(rootdir)

        def pick(name: str, default=None):
            value = options.get(name)
            return value if value not in (None, False) else table.get(name, default)

        for name in ("baseline", "python", "target", "report"):  # "" is the working directory, or nothing
            value = pick(name)
            if value is not None and not str(value).strip():
                raise CompatError(f"compat {name} {value!r}: an empty value names nothing; "
                                  f"leave it out for the default or name one")
        chosen = pick("baseline")
        if chosen is None:
            baseline = default_baseline(rootdir, pick("python"))
        else:
            baseline = Path(chosen)
            if not baseline.is_absolute():
                from_cli = options.get("baseline") not in (None, False)
                baseline = ((cwd or rootdir) if from_cli else rootdir) / baseline
        report = pick("report")
        if report and not Path(report).is_absolute() and options.get("report") and cwd is not None:
            report = str(cwd / report)
        if report:
            try:
                jsonio.check_replaceable(report)
            except CompatError as exc:
                raise CompatError(f"report {exc}") from None
        fail_on = pick("fail_on", "breaking")
        if fail_on not in FAIL_ON:
            raise CompatError(f"compat fail-on {fail_on!r}: expected {', '.join(FAIL_ON)}")
        return cls(
            baseline=baseline,
            target=pick("target"),
            update=bool(options.get("update")),
            report=Path(report) if report else None,
            fail_on=fail_on,
            python=pick("python"),
            behaviour=bool(pick("behaviour", True)),
            path_prefix=pick("path_prefix"),
            full=bool(options.get("full")),
            witness=bool(options.get("witness")),
        )


def tool_compat(rootdir: Path) -> dict:
    """The project's `[tool.compat]` table, checked (keys with - spelt _); {} without one."""
    table: dict = {}
    pyproject = rootdir / "pyproject.toml"
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text()).get("tool", {}).get("compat", {})
        except tomllib.TOMLDecodeError as exc:
            raise CompatError(f"{pyproject}: invalid TOML ({exc})") from None
        if not isinstance(table, dict):
            raise CompatError(f"{pyproject}: [tool.compat] must be a table")
        table = {str(k).replace("-", "_"): v for k, v in table.items()}
        schemas.check(schemas.ToolCompat, table, f"{pyproject} [tool.compat]", hint="fix it")
    return table


def project_target(cwd: Path) -> str | None:
    """The target the project at or above `cwd` names in `[tool.compat]`, if any: a target the
    user named, which the command line honours like the gate does."""
    root = next((d for d in (cwd, *cwd.parents) if (d / "pyproject.toml").is_file()), None)
    return tool_compat(root).get("target") if root is not None else None


def _recorded_on(baseline: Path) -> str | None:
    try:
        manifest = jsonio.read_json(baseline / "manifest.json", schema=BASELINE_SCHEMA, versions=(BASELINE_VERSION,))
    except CompatError:
        return None
    return (manifest.get("generator") or {}).get("dagster")


def default_baseline(rootdir: Path, python: str | None) -> Path:
    """With no baseline named, the one recorded on the dagster under test: `snapshots/baseline`,
    else `snapshots/baseline-<version>`, in the project the run is from, then in the harness's own
    repository. A baseline of another dagster would report every difference between two releases
    as a break, so none is taken: the error says how to record the right one."""
    roots = [rootdir] + ([PROJECT_ROOT] if PROJECT_ROOT != rootdir else [])
    if python is not None:  # another interpreter: its dagster is not this one's to match
        return rootdir / DEFAULT_BASELINE
    try:
        installed = metadata.version("dagster")
    except metadata.PackageNotFoundError:
        raise CompatError("dagster is not installed in this interpreter") from None
    seen = []
    for root in roots:
        cands = (root / DEFAULT_BASELINE, root / f"{DEFAULT_BASELINE}-{installed}")
        for cand in cands:
            recorded = _recorded_on(cand)
            if recorded == installed:
                return cand
            if recorded is not None:
                seen.append(f"{cand} is dagster {recorded}")
            elif os.path.lexists(cand):  # the project's own, damaged: refused, never swapped for ours
                Baseline(cand)  # says what is wrong with it, in one line
                raise CompatError(f"baseline {cand}: its manifest names no dagster version; re-record it")
        if root == rootdir and root != PROJECT_ROOT and any(os.path.lexists(c) for c in cands):
            break  # the project has a baseline of its own: it is used or refused, never another's
    found = f" ({'; '.join(seen)})" if seen else ""
    raise CompatError(
        f"no baseline recorded on dagster {installed}{found}: record one from the old side with "
        f"`compat baseline --old SPEC --out {DEFAULT_BASELINE}` (SPEC: dagster==X, or PATH@REV such as .@master), "
        "or pass --compat-baseline DIR")


class Gate:
    """Loads the baseline and the installed surface once, and answers per-test questions."""

    def __init__(self, settings: Settings, decided: dict | None = None):
        """``decided``: what another process's gate decided (:meth:`decided`); an xdist worker
        takes its static findings and selection from the controller instead of working them
        out again, which was most of each worker's start-up."""
        self.settings = settings
        self.base = Baseline(settings.baseline, read_reach=decided is None)
        # a target the user named is imported, then held to the recorded one (validate); the
        # manifest's own is taken only if it is the default
        self.target = settings.target or self.base.target_for(None)
        if decided is not None:
            self.__dict__["surface_findings"] = [Finding.from_dict(f) for f in decided["surface"]]
            self.__dict__["profile_findings"] = {name: [Finding.from_dict(f) for f in found]
                                                 for name, found in decided["profiles"].items()}
            if decided.get("selection") is not None:
                self.__dict__["selection"] = Selection(**decided["selection"])

    def decided(self) -> dict:
        """The static findings and the behaviour selection, as plain data to hand to workers."""
        return {
            "surface": [f.to_dict() for f in self.surface_findings],
            "profiles": {name: [f.to_dict() for f in found] for name, found in self.profile_findings.items()},
            "selection": dataclasses.asdict(self.selection) if self.settings.behaviour else None,
        }

    def validate(self) -> None:
        """Everything test collection needs, loaded now: a bad target, interpreter, surface,
        profile or accepted list is one usage line, not an error inside collection."""
        self.new_surface
        self.base.same_target(self.target)
        self.profile_findings
        self.base.accepted
        self.base.programs()
        self.base.reach

    @cached_property
    def search_paths(self) -> list[str]:
        return envs.interpreter_paths(self.settings.python) if self.settings.python else installed_search_paths()

    @cached_property
    def new_surface(self):
        return snapshot(self.target, self.search_paths, source="python" if self.settings.python else "installed")

    @cached_property
    def surface_findings(self) -> list[Finding]:
        return sort_findings(compare_surfaces(self.base.surface, self.new_surface))

    @cached_property
    def profile_findings(self) -> dict[str, list[Finding]]:
        return {
            name: sort_findings(check_profile_change(prof, self.base.surface, self.new_surface,
                                                     search_paths=self.search_paths))
            for name, prof in self.base.profiles()
        }

    def members(self) -> list[str]:
        """Every member either surface knows, plus finding subjects that are not members."""
        names = set(self.base.surface.members) | set(self.new_surface.members)
        names |= set(self.base.surface.instance_attributes) | set(self.new_surface.instance_attributes)
        names |= {f.member for f in self.surface_findings}
        return sorted(names)

    def for_member(self, member: str) -> list[Finding]:
        return [f for f in self.surface_findings if f.member == member]

    def cells(self) -> list[str]:
        return [p.stem for p in self.base.trace_files()]

    def programs(self) -> list[str]:
        """Ids of the stored fuzz programs (index, subclass, storage)."""

        return [program_id(i, prog) for i, prog in enumerate(self.base.programs())]

    @cached_property
    def selection(self):
        """The cells and programs this change can reach (compat.behaviour.reach); the same in
        every xdist worker, since it depends only on the baseline and the checked sources. A side
        that cannot import the target at all replays everything, so that every cell says why it
        cannot run: what breaks the import may be nothing the reach map compares (the
        interpreter's start-up, a `.pth` file or `sitecustomize` beside dagster)."""
        python = python_for_gate(self.settings)
        chosen = self.base.selection(python, self.search_paths, full=self.settings.full)
        if chosen.everything:
            return chosen
        broken = import_failure(python, self.target)
        if broken is None:
            return chosen
        first = str(broken.get("exception") or "it fails").splitlines()[0]
        return dataclasses.replace(self.base.selection(python, self.search_paths, full=True), changed=[],
                                   reason=f"the new side cannot import {self.target} ({first})")

    def replays_cell(self, cell: str) -> bool:
        return cell in self._chosen_cells

    def replays_program(self, program: str) -> bool:
        return program in self._chosen_programs

    @cached_property
    def _chosen_cells(self) -> set[str]:
        return set(self.selection.cells)

    @cached_property
    def _chosen_programs(self) -> set[str]:
        return set(self.selection.programs)

    @cached_property
    def new_label(self) -> str:
        """The checked side named by what it is (`dagster 1.13.29`), never "installed"."""
        return surface_label(self.new_surface)

    @cached_property
    def profiles(self) -> list:
        return [p for _, p in self.base.profiles()]

    @cached_property
    def _static_severity(self) -> dict[tuple, str]:
        """What each static finding counts for within its cause: a caller that merely reaches
        an edited method counts no more than the finding at the edited method itself."""
        findings = self.all_findings()
        effective = effective_severities(findings, self.base.surface, self.new_surface, self.profiles)
        return {_key(f): effective[id(f)] for f in findings}

    def severity(self, f: Finding) -> str:
        if f.source in ("surface", "profile"):
            return self._static_severity.get(_key(f), f.severity)
        key = _key(f)
        if key not in self._policy_cache:  # a cell judged alone, as it runs, by the severity policy
            self._policy_cache[key] = policy_severity(f)  # no surfaces: a worker has read none
        return self._policy_cache[key]

    @cached_property
    def _policy_cache(self) -> dict[tuple, str]:
        return {}

    def failing(self, findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(findings that fail the gate, findings shown but accepted or below the threshold)."""
        open_, accepted = accepted_mod.split(findings, self.base.accepted)
        if self.settings.fail_on == "never":
            return [], open_ + accepted
        bad = [f for f in open_ if at_or_above(self.severity(f), self.settings.fail_on, typing=typing_only(f))]
        return bad, [f for f in findings if f not in bad]

    def result(self, findings: list[Finding], incomplete: tuple[int, int] | None = None) -> CheckResult:
        """The whole run's findings with their causes, as every report renders them; ``incomplete``:
        (units run, units of the check) when the run stopped short."""
        open_, taken = accepted_mod.split(findings, self.base.accepted)
        replay = self.selection.as_dict() if self.settings.behaviour and (
            self.base.trace_files() or self.base.programs()) else None
        return CheckResult(target=self.target, old_label=self.base.label, new_label=self.new_label, findings=open_,
                           old_surface=self.base.surface, new_surface=self.new_surface, profiles=self.profiles,
                           title=f"{self.target}: baseline {self.base.label} -> {self.new_label}",
                           path_prefix=self.path_prefix, accepted=accepted_mod.reasons(taken, self.base.accepted),
                           replay=replay, incomplete=incomplete, warnings=list(self.base.warnings),
                           witness_sides=(sides.recorded_side(self.base.surface, f"baseline {self.base.label}"),
                                          python_for_gate(self.settings)) if self.settings.witness else None)

    @cached_property
    def path_prefix(self) -> str:
        if self.settings.path_prefix is not None:
            return self.settings.path_prefix
        return sides.from_options(python=self.settings.python, target=self.target).repo_prefix()

    def all_findings(self) -> list[Finding]:
        out = list(self.surface_findings)
        for findings in self.profile_findings.values():
            out += findings
        return out

    def stale_accepted(self, behaviour_findings: list[Finding] | None = None) -> list[accepted_mod.Accepted]:
        """Accepted entries matching nothing. Behaviour entries are judged only when
        behaviour findings are known (a partial run cannot call them stale)."""
        known = self.all_findings() + (behaviour_findings or [])
        entries = [e for e in self.base.accepted
                   if behaviour_findings is not None or getattr(RULES.get(e.rule), "layer", None) not in REPLAY_LAYERS]
        return accepted_mod.stale(known, entries)


def _key(f: Finding) -> tuple:
    return (f.source, f.rule, f.member, f.message)


def explain(findings: list[Finding], prefix: str = "", package: str = "dagster") -> str:
    """The failure text of one test: each finding with its old and new text, no stack. With a
    `prefix` (the checkout's `python_modules/dagster/`), a location in `package` names the file of
    the repository on both sides: the baseline's and the checked tree's files of a package have
    the same place in it (a subclass package's locations stay as they are)."""

    def at(loc: str | None) -> str:
        if prefix and loc.split("/", 1)[0] == package and not loc.startswith(prefix):
            loc = prefix + loc
        return f"   ({loc})"

    lines = []
    for f in findings:
        lines.append(f"[{f.severity}] {f.rule} ({f.audience}) {f.member}: {f.message}")
        if f.old is not None:
            lines.append(f"    old: {f.old}" + (at(f.old_location) if f.old_location else ""))
        if f.new is not None:
            lines.append(f"    new: {f.new}" + (at(f.new_location) if f.new_location else ""))
        if (f.details or {}).get("snippet"):
            lines.append("    reproduce with:")
            lines += [f"        {ln}" for ln in f.details["snippet"].splitlines()]
    return escape_unsafe("\n".join(lines))  # a name from a baseline is shown, never obeyed


def python_for_gate(settings: Settings) -> str:
    return settings.python or sys.executable


def in_xdist_worker(config) -> bool:
    """Known by the config xdist gives its workers: an environment variable would also be
    inherited by a pytest started from inside a worker, which is not one."""
    return hasattr(config, "workerinput")


__all__ = ["Gate", "Settings", "explain", "CLASS_MEMBER", "PROJECT_ROOT", "python_for_gate", "in_xdist_worker"]

"""The textbook corpus: class changes whose verdict is known, and how well a checker tells them apart.

Each case is a directory with two plain source trees of a toy package (``old/pkg``, ``new/pkg``;
the class under test is ``pkg.mod:Instance``) and ``probe.py``: an old caller's call shapes and
a subclass written against the old class, as a script. Its docstring starts with the verdict:

- ``compatible``: the probe passes on both trees, and no type checker objects either;
- ``runtime``: the probe passes on the old tree and fails on the new one;
- ``typing``: the probe passes on both, but typed code breaks under mypy or pyright (a typed
  caller, or an override that is now incompatible with the new base), as the docstring says.

:func:`probe_passes` runs a probe on a tree, so every verdict but the typing judgement is
checked at run time. :func:`score` runs a checker over every case: a checker flags a case when
it reports something at or above the threshold; a break it does not flag is missed, a
compatible case it flags is a false alarm. compat is scored with its surface rules and the
profile checks of the probe's subclasses; griffe with ``find_breaking_changes`` on the whole
package (how ``griffe check pkg`` runs), which has no severities, so its two thresholds agree.
"""

from __future__ import annotations

import ast
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import griffe

from compat import tempdirs
from compat.model.findings import SEVERITY_RANK, Finding
from compat.static.diff import compare_surfaces
from compat.static.extract import snapshot
from compat.static.profile import profile_source
from compat.static.profile_checks import check_profile

TARGET = "pkg.mod:Instance"
VERDICTS = ("compatible", "runtime", "typing")
ROOT = Path(__file__).resolve().parents[2] / "tests" / "textbook"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    verdict: str
    why: str

    @property
    def old(self) -> Path:
        return self.path / "old"

    @property
    def new(self) -> Path:
        return self.path / "new"

    @property
    def probe(self) -> Path:
        return self.path / "probe.py"

    @property
    def breaks(self) -> bool:
        return self.verdict != "compatible"


def load_cases(root: Path = ROOT) -> list[Case]:
    """Every case under ``root``, by name; a probe without a known verdict is an error."""
    cases = []
    for d in sorted(p for p in root.iterdir() if (p / "probe.py").is_file()):
        doc = ast.get_docstring(ast.parse((d / "probe.py").read_text())) or ""
        head, _, why = doc.partition("\n")
        verdict = head.removeprefix("verdict:").strip()
        if not head.startswith("verdict:") or verdict not in VERDICTS:
            raise ValueError(f"{d.name}: probe.py must start with a docstring 'verdict: {'|'.join(VERDICTS)}'")
        cases.append(Case(d.name, d, verdict, " ".join(why.split())))
    return cases


def probe_passes(case: Case, tree: Path) -> tuple[bool, str]:
    """Run the probe against one tree in a fresh interpreter: (passed, last line of stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tree)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="compat-probe-") as tmp:
        proc = tempdirs.run([sys.executable, "-B", str(case.probe)], cwd=tmp, env=env,
                            capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    return proc.returncode == 0, lines[-1] if lines else ""


def compat_findings(case: Case) -> list[Finding]:
    """compat's surface rules on the two trees, and its profile checks of the probe's subclasses."""
    old = snapshot(TARGET, [str(case.old)], source="sources", use_cache=False)
    new = snapshot(TARGET, [str(case.new)], source="sources", use_cache=False)
    found = compare_surfaces(old, new)
    text = case.probe.read_text()
    subclasses = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ClassDef)
                  and any(isinstance(b, ast.Name) and b.id == "Instance" for b in n.bases)]
    if subclasses:
        with tempfile.TemporaryDirectory(prefix="compat-probe-") as tmp:
            ext = Path(tmp, "ext")
            ext.mkdir()
            (ext / "__init__.py").write_text("")
            (ext / "sub.py").write_text(text)
            prof = profile_source(str(ext), target=TARGET, dagster_paths=[str(case.old)])
            found += check_profile(prof, new, search_paths=[str(case.new)])
    return found


def griffe_breakages(case: Case) -> list[str]:
    """griffe's ``find_breaking_changes`` on the whole package, as one line per breakage."""
    old = griffe.load("pkg", search_paths=[str(case.old)], allow_inspection=False)
    new = griffe.load("pkg", search_paths=[str(case.new)], allow_inspection=False)
    return sorted(f"{b.kind.value}: {b.obj.path}" for b in griffe.find_breaking_changes(old, new))


def flags(findings: list[Finding], fail_on: str) -> bool:
    return any(SEVERITY_RANK[f.severity] <= SEVERITY_RANK[fail_on] for f in findings)


@dataclass
class Score:
    checker: str
    fail_on: str
    breaks: int = 0
    caught: int = 0
    compatible: int = 0
    false_alarms: int = 0
    missed: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.checker:<7} --fail-on {self.fail_on:<8} breaks caught {self.caught}/{self.breaks}, "
                f"false alarms {self.false_alarms}/{self.compatible}")


def score(cases: list[Case]) -> list[Score]:
    """compat at --fail-on warning and at the default (breaking), griffe beside it."""
    scores = {key: Score(*key) for key in
              (("compat", "warning"), ("compat", "breaking"), ("griffe", "warning"), ("griffe", "breaking"))}
    for case in cases:
        ours = compat_findings(case)
        theirs = bool(griffe_breakages(case))
        for (checker, fail_on), s in scores.items():
            flagged = flags(ours, fail_on) if checker == "compat" else theirs
            if case.breaks:
                s.breaks += 1
                s.caught += flagged
                if not flagged:
                    s.missed.append(case.name)
            else:
                s.compatible += 1
                s.false_alarms += flagged
                if flagged:
                    s.alarms.append(case.name)
    return list(scores.values())


def main() -> None:
    cases = load_cases()
    print(f"{len(cases)} cases: " + ", ".join(f"{sum(c.verdict == v for c in cases)} {v}" for v in VERDICTS))
    for s in score(cases):
        print(s.line())
        if s.missed:
            print("  missed: " + ", ".join(s.missed))
        if s.alarms:
            print("  false alarms: " + ", ".join(s.alarms))


if __name__ == "__main__":
    main()

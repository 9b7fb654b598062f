"""Run a rule's fixture through its layer's real machinery: the findings it produces.

Each layer turns a fixture into findings the way it turns real data into findings: surfaces
extracted from toy sources and compared, a toy subclass profiled against a toy base and checked
against its new version, two traces compared, a stored program's results compared, accepted
entries matched against findings, griffe run on two toy classes. The tests run every rule's
fixture (it must report the rule) and near miss (it must not), and docs/rules.md shows what each
fixture reports, so the documented examples are the tested ones.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from compat.gate import accepted
from compat.behaviour import replay
from compat.fuzz import differential
from compat.static import griffe_compare
from compat.static.diff import compare_surfaces
from compat.model.findings import Finding
from compat.static.profile import profile_source
from compat.static.profile_checks import check_profile
from compat.rules.base import EXAMPLE_TARGET, example_files
from compat.rules.registry import BASELINE, BEHAVIOUR, FUZZ, GRIFFE, PROFILE, SURFACE, Fixture, Rule
from compat.static.extract import from_sources, snapshot

SUBCLASS_PACKAGE = "ext"  # a profile fixture's subclass is the toy package ext, module ext/sub.py
FUZZ_LABELS = ("old", "new")


def findings_of(rule: Rule, fixture: Fixture | None = None) -> list[Finding]:
    """Every finding (of any rule) that the rule's layer reports on ``fixture``, by default the
    rule's own fixture."""
    return _RUNNERS[rule.layer](rule.fixture if fixture is None else fixture)


def _surface(fx: Fixture) -> list[Finding]:
    return compare_surfaces(from_sources(example_files(fx.old), EXAMPLE_TARGET),
                            from_sources(example_files(fx.new), EXAMPLE_TARGET))


def subclass_files(source: str) -> dict[str, str]:
    """The toy subclass package of a profile fixture: ``ext/sub.py`` holds ``source``."""
    return {f"{SUBCLASS_PACKAGE}/__init__.py": "", f"{SUBCLASS_PACKAGE}/sub.py": source}


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _profile(fx: Fixture) -> list[Finding]:
    if fx.subclass is None:
        raise ValueError("a profile fixture needs the source of a subclass")
    with tempfile.TemporaryDirectory(prefix="compat-fixture-") as tmp:
        old = _write(Path(tmp, "old"), example_files(fx.old))
        new = _write(Path(tmp, "new"), example_files(fx.new))
        src = _write(Path(tmp, "src"), subclass_files(fx.subclass))
        prof = profile_source(str(src / SUBCLASS_PACKAGE), target=EXAMPLE_TARGET, dagster_paths=[str(old)])
        surface = snapshot(EXAMPLE_TARGET, [str(new)], source="sources", use_cache=False)
        return check_profile(prof, surface, search_paths=[str(new)])


def _behaviour(fx: Fixture) -> list[Finding]:
    found = replay.compare(fx.old, fx.new)
    return [found] if found is not None else []


def _fuzz(fx: Fixture) -> list[Finding]:
    found = differential.compare_stored(0, fx.old, fx.new, FUZZ_LABELS)
    return [found] if found is not None else []


def _baseline(fx: Fixture) -> list[Finding]:
    entries = [accepted.Accepted(e["rule"], e["member"], e["reason"]) for e in fx.old]
    return accepted.stale_findings([Finding.from_dict(d) for d in fx.new], entries)


def _griffe(fx: Fixture) -> list[Finding]:
    return griffe_compare.breakages_to_findings(griffe_compare.load_sources(example_files(fx.old), EXAMPLE_TARGET),
                                                griffe_compare.load_sources(example_files(fx.new), EXAMPLE_TARGET))


_RUNNERS: dict[str, Callable[[Fixture], list[Finding]]] = {
    SURFACE: _surface,
    PROFILE: _profile,
    BEHAVIOUR: _behaviour,
    FUZZ: _fuzz,
    BASELINE: _baseline,
    GRIFFE: _griffe,
}

__all__ = ["findings_of", "subclass_files", "SUBCLASS_PACKAGE"]

"""The outcome of one check: findings of every layer, the two surfaces, the profiles, and the
causes built from them, rendered in any format and turned into one exit code.

`compat diff`, `compat check`, `compat compare` and the gate all end in a :class:`CheckResult`,
so their verdicts, causes and reports agree: the exit code is 1 exactly when a cause is at or
above ``--fail-on``, the same causes every report leads with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from compat.causes import Cause, build_causes, cause_order, verdict
from compat.model.findings import Finding, sort_findings
from compat.model.surface import Surface
from compat.report import failing_causes, render, write_report


@dataclass
class CheckResult:
    target: str
    old_label: str
    new_label: str
    findings: list[Finding]
    old_surface: Surface | None = None
    new_surface: Surface | None = None
    profiles: list = field(default_factory=list)  # compat.model.profile.Profile objects of the old side
    title: str | None = None
    path_prefix: str = ""  # before package-relative paths, to name files in the new side's repository
    accepted: list = field(default_factory=list)  # (finding, reason): declared intended, shown, not counted
    replay: dict | None = None  # how many cells and programs were replayed, and why (selection.Selection.as_dict)
    # the two sides (compat.sides.Side, or their interpreters' paths): when given, every cause that
    # could break is put to its witness on both (compat.witness); an interpreter is built
    # only when there is a cause to witness. None for recorded surfaces only
    witness_sides: tuple | None = None
    witness_jobs: int = 1
    incomplete: tuple[int, int] | None = None  # (units run, units of the check): a gate run stopped short
    # what every report says about its inputs before the verdict is trusted: a baseline edited by
    # hand since its recording, a reach map that is not the recording's (Baseline.warnings)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.findings = sort_findings(self.findings)
        if self.title is None:
            self.title = f"{self.target}: {self.old_label} -> {self.new_label}"

    @cached_property
    def causes(self) -> list[Cause]:
        causes = build_causes(self.findings, self.old_surface, self.new_surface, self.profiles)
        if self.witness_sides is not None and self.old_surface is not None:
            from compat import witness

            if witness.needed(causes, self.old_surface, self.new_surface):
                pythons = tuple(s if isinstance(s, str) else s.python for s in self.witness_sides)
                witness.attach(causes, self.old_surface, self.target, pythons, jobs=self.witness_jobs,
                               new=self.new_surface)
                causes.sort(key=cause_order)
        if self.path_prefix:
            for c in causes:
                if c.location and not c.location.startswith(self.path_prefix):
                    c.location = self.path_prefix + c.location
        return causes

    def failing(self, fail_on: str) -> list[Cause]:
        return failing_causes(self.causes, fail_on)

    def verdict_line(self, fail_on: str) -> str:
        """The verdict every format leads with: accepted findings counted, a partial run incomplete."""
        return verdict(self.causes, fail_on, accepted=len(self.accepted), incomplete=self.incomplete)

    def exit_code(self, fail_on: str) -> int:
        return 1 if self.failing(fail_on) or self.incomplete is not None else 0

    def render(self, fmt: str, fail_on: str = "breaking", *, full_report: str | None = None,
               limit: int | None = None) -> str:
        extra = {} if limit is None else {"limit": limit}
        return render(self.findings, fmt, title=self.title, old_label=self.old_label, new_label=self.new_label,
                      fail_on=fail_on, causes=self.causes, full_report=full_report, accepted=self.accepted,
                      replay=self.replay, incomplete=self.incomplete, warnings=self.warnings, **extra)

    def write(self, path: str | Path, fmt: str, fail_on: str = "breaking", extra: str = "") -> list[Path]:
        """Write the report to ``path`` (:func:`compat.report.write_report`: a cut markdown report
        gets the complete one beside it); ``extra`` ends both."""
        return write_report(path, fmt, lambda full, limit: self.render(fmt, fail_on, full_report=full, limit=limit),
                            extra)


__all__ = ["CheckResult"]

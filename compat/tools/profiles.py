"""The shipped real-subclass profiles: dagster-cloud profiled at two releases, and the report of
each profile against the dagster releases that matter for the refactor.

    python -c "from compat.tools.profiles import record_shipped; record_shipped('snapshots/profiles', corpus='compat/corpus')"
"""

from __future__ import annotations

from pathlib import Path

from compat.envs import wheel_tree
from compat.model.jsonio import write_atomic
from compat.model.surface import Surface
from compat.report import render
from compat.static.extract import DEFAULT_TARGET, snapshot
from compat.model.profile import Profile, write_profile
from compat.static.profile import profile_source
from compat.static.profile_checks import check_profile

# --- shipped profiles and their reports ------------------------------------------------------
# The real subclass package profiled at two releases, each read against the dagster of the same
# release, and the dagster releases its profiles are checked against (the refactor's before,
# the mixin split, the newest).
REAL_PROFILES: dict[str, tuple[str, str]] = {
    "dagster-cloud-1.11.4": ("dagster-cloud==1.11.4", "1.11.4"),
    "dagster-cloud-1.13.27": ("dagster-cloud==1.13.27", "1.13.27"),
}
CHECKED_AGAINST = ("1.11.4", "1.11.6", "1.13.29")


def render_checks(profile: Profile, surface: Surface, fmt: str = "markdown", *,
                  search_paths: list[str] | None = None) -> str:
    """The findings of one profile against one surface, rendered like every other report."""
    findings = check_profile(profile, surface, search_paths=search_paths)
    new = f"dagster {surface.generator.get('dagster', '?')}"
    return render(
        findings, fmt, title=f"{profile.label} subclasses against {new}",
        old_label=f"{profile.label} (profiled on dagster {profile.base_version})", new_label=new,
    )


def record_shipped(dest, *, corpus=None, target: str | None = None, progress=lambda msg: None) -> list[str]:
    """Profile the real subclass packages (and the corpus directory, when given) into `dest`,
    and write the markdown report of each real profile against each CHECKED_AGAINST dagster."""
    target = target or DEFAULT_TARGET
    dest = Path(dest)
    written = []
    surfaces = {v: snapshot(target, [str(wheel_tree(v))]) for v in CHECKED_AGAINST}
    if corpus is not None:
        progress(f"profiling {corpus}")
        write_profile(profile_source(str(corpus), target=target), dest / "corpus.json")
        written.append("corpus.json")
        # the corpus read against the refactor's "before", checked against the later releases
        old = CHECKED_AGAINST[0]
        prof = profile_source(str(corpus), target=target, dagster_paths=[str(wheel_tree(old))])
        write_profile(prof, dest / f"corpus-on-dagster-{old}.json")
        written.append(f"corpus-on-dagster-{old}.json")
        for version in CHECKED_AGAINST[1:]:
            report = dest / "checks" / f"corpus-on-dagster-{old}-vs-dagster-{version}.md"
            write_atomic(report, render_checks(prof, surfaces[version], search_paths=[str(wheel_tree(version))]))
            written.append(f"checks/{report.name}")
    for name, (spec, dagster) in REAL_PROFILES.items():
        progress(f"profiling {spec} against dagster {dagster}")
        prof = profile_source(spec, target=target, dagster_paths=[str(wheel_tree(dagster))])
        write_profile(prof, dest / f"{name}.json")
        written.append(f"{name}.json")
        for version, surface in surfaces.items():
            report = dest / "checks" / f"{name}-vs-dagster-{version}.md"
            write_atomic(report, render_checks(prof, surface, search_paths=[str(wheel_tree(version))]))
            written.append(f"checks/{report.name}")
    return written

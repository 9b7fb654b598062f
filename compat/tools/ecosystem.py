"""`compat ecosystem`: every subclass of a dagster class in released packages, against a new dagster.

For each downstream package (dagster-cloud and dagster's integration packages by default) the
release that goes with the old side's dagster is read from its wheel (:mod:`compat.downstream`);
every class of it that subclasses a dagster class is found statically, with the nearest dagster
classes it reaches (:mod:`compat.static.subclasses`). Each such base is a target like
DagsterInstance: its surface is read on both sides, every (subclass, base) pair is profiled against
the old surface and the profile checked against the new one (:mod:`compat.static.profile_checks`).

The findings join the causes model per base (one cause per change in dagster, naming the
downstream classes it breaks); a cause seen through several bases (a member of a shared ancestor)
is one cause. Beside the causes the result carries one row per pair: package, version, subclass,
base and verdict.

Where the harness can run a base's contract (DuckDB in a temp dir; PostgreSQL and MariaDB servers
it starts itself), the pairs are also replayed on both dagsters
(:mod:`compat.tools.ecosystem_replay`): a divergence is a behaviour finding of that pair, joining
the same causes.

Profiles and discoveries are cached by the wheel's sha256, the old side's content and the harness's
own code, so a second run over the same releases reads JSON files only (each checked against its
schema).
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import griffe
from pydantic import StrictStr

from compat import downstream, envs
from compat.causes import Cause, build_causes, effective_severities
from compat.model import jsonio, schemas
from compat.model.errors import CompatError
from compat.model.findings import BREAKING, INFO, SEVERITY_RANK, WARNING, Finding, sort_findings, typing_only
from compat.model.surface import Surface
from compat.report import failing_causes, render, write_report
from compat.sides import Side
from compat.static.extract import Extractor, _version, side_surface
from compat.static.griffe_compare import breakage_member
from compat.static.loader import StaticLoader, distribution_version
from compat.model.profile import PROFILE_SCHEMA, PROFILE_VERSION, Profile
from compat.static.profile import (
    Profiler,
    Source,
    base_call_shapes,
    built_by_instance_factory,
)
from compat.static.profile_checks import check_profile
from compat.static.subclasses import Base, Found, discover, package_modules
from compat.tools import ecosystem_replay, ecosystem_witness

DISCOVERY_SCHEMA = "compat.ecosystem-discovery"
COMPATIBLE = "compatible"
BASE_MISSING = "base-missing"


class _BaseRow(schemas._Open):
    target: StrictStr
    imported_as: StrictStr


class _FoundRow(schemas._Open):
    subclass: StrictStr
    location: StrictStr
    bases: list[_BaseRow]


class DiscoveryFile(schemas._Open):
    package: StrictStr
    version: StrictStr
    sha256: StrictStr
    found: list[_FoundRow]


@dataclass
class Pair:
    """One downstream class against one dagster base it reaches."""

    package: str
    version: str  # the release read (the one matching the old side's dagster)
    new_version: str | None  # the release matching the new side's dagster
    subclass: str
    base: str  # "module:Class"
    verdict: str  # breaking, warning, compatible, base-missing
    findings: int = 0
    location: str = ""
    breakage: str | None = None  # a breaking pair: "runtime", or "typing" when only a type checker fails
    replayed: str | None = None  # its overrides replayed on both sides: "identical" or "diverged"
    # a breaking pair: did the package's release for the new dagster follow the change? "followed"
    # (its class checks clean against the new dagster), "not followed", "class removed", "no new
    # release", or "seen by replay only" (a divergence its profile cannot judge)
    followed: str | None = None

    def to_dict(self) -> dict:
        row = {"package": self.package, "version": self.version, "new_version": self.new_version,
               "subclass": self.subclass, "base": self.base, "verdict": self.verdict, "breakage": self.breakage,
               "findings": self.findings, "location": self.location, "replayed": self.replayed}
        if self.followed is not None:
            row["followed"] = self.followed
        return row


@dataclass
class EcosystemResult:
    old_label: str
    new_label: str
    pairs: list[Pair]
    findings: list[Finding]
    causes: list[Cause]
    packages: list[dict] = field(default_factory=list)  # package, version, new_version, subclasses
    timings: list[str] = field(default_factory=list)
    # per base: (its target on the new side, the base names a downstream subclass overrides or
    # uses), for griffe's check on the same classes
    uses: dict[str, tuple[str | None, set[str]]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return "downstream subclasses of dagster classes"

    def pair_rows(self) -> list[dict]:
        return [p.to_dict() for p in self.pairs]

    def render(self, fmt: str, fail_on: str = "breaking", *, full_report: str | None = None,
               limit: int | None = None) -> str:
        extra = {} if limit is None else {"limit": limit}
        return render(self.findings, fmt, title=self.title, old_label=self.old_label, new_label=self.new_label,
                      fail_on=fail_on, causes=self.causes, full_report=full_report, pairs=self.pair_rows(),
                      packages=self.packages, **extra)

    def exit_code(self, fail_on: str) -> int:
        missing = fail_on != "never" and any(p.verdict == BASE_MISSING for p in self.pairs)
        return 1 if failing_causes(self.causes, fail_on) or missing else 0

    def write(self, path: str | Path, fmt: str, fail_on: str = "breaking", extra: str = "") -> list[Path]:
        return write_report(path, fmt, lambda full, limit: self.render(fmt, fail_on, full_report=full, limit=limit),
                            extra)


def _harness_digest() -> str:
    """The code that discovers and profiles: a cache entry made by other code is never reused."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for rel in ("static", "model", "downstream.py"):
        p = root / rel
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    h.update(_version("griffe").encode())
    return h.hexdigest()


def _side_version(side: Side) -> str:
    if side.spec is not None and side.spec.version:
        return side.spec.version
    version = distribution_version(side.search_paths)
    if not version:
        raise CompatError(f"{side.text}: cannot tell which dagster release it is, so no downstream release matches it")
    return version.split("+", 1)[0]


class _Cache:
    def __init__(self, old: Side):
        self.root = envs.cache_dir() / "ecosystem"
        self.salt = hashlib.sha256(f"{_harness_digest()}\0{old.content_digest()}".encode()).hexdigest()

    def path(self, kind: str, *parts: str) -> Path:
        key = hashlib.sha256("\0".join([self.salt, *parts]).encode()).hexdigest()[:32]
        return self.root / kind / f"{key}.json"

    def discovery(self, wheel: downstream.Wheel, dagster_paths: list[str]) -> list[Found]:
        path = self.path("discovery", wheel.sha256)
        if path.exists():
            data = jsonio.read_json(path, schema=DISCOVERY_SCHEMA, versions=(1,))
            parsed = schemas.check(DiscoveryFile, data, path)
            return [Found(f.subclass, f.location, [Base(b.target, b.imported_as) for b in f.bases]) for f in parsed.found]
        try:
            found = discover(wheel.tree, dagster_paths)
        except Exception as exc:  # noqa: BLE001 - a package griffe cannot read is a row of --all, with why
            why = str(exc) if isinstance(exc, CompatError) else f"{type(exc).__name__}: {exc}"
            why = why.replace(f"{wheel.tree}: ", "").replace(str(wheel.tree), "the unpacked release")  # no cache path
            raise downstream.Unavailable(f"{wheel.label}: cannot read it ({why.splitlines()[0] if why else '?'})") from None
        jsonio.write_json(path, {
            "schema": DISCOVERY_SCHEMA, "schema_version": 1, "package": wheel.package, "version": wheel.version,
            "sha256": wheel.sha256,
            "found": [{"subclass": f.subclass, "location": f.location,
                       "bases": [{"target": b.target, "imported_as": b.imported_as} for b in f.bases]} for f in found],
        })
        return found

    def profile(self, wheel: downstream.Wheel, target: str, make: Callable[[], Profile], *against: str) -> Profile:
        """`against`: the side the profile is made against when not the old one (its digest)."""
        path = self.path("profiles", wheel.sha256, target, *against)
        if path.exists():
            data = jsonio.read_json(path, schema=PROFILE_SCHEMA, versions=(PROFILE_VERSION,))
            schemas.check(schemas.file_model(Profile), data, path)
            return Profile.from_dict(data)
        try:
            prof = make()
        except CompatError:
            raise
        except Exception as exc:  # noqa: BLE001 - as in discovery: a row of --all, with why
            raise downstream.Unavailable(f"{wheel.label}: cannot profile it against {target} "
                                         f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
        jsonio.write_json(path, prof.to_dict())
        return prof


def _profile(profilers: dict[str, Profiler], wheel: downstream.Wheel, target: str, subclasses: list[str], old: Side,
             base: Surface) -> Profile:
    """The pairs of one package and one base; the package's files are loaded once for all its bases."""
    factory = built_by_instance_factory(base)
    if wheel.sha256 not in profilers:
        source = Source(wheel.package, wheel.tree, package_modules(wheel.tree), wheel.version, fetched=True)
        profilers[wheel.sha256] = Profiler(source, target, old.search_paths, base, instance_factory=factory)
    prof = profilers[wheel.sha256].retarget(target, base, instance_factory=factory)
    found = []
    for path in subclasses:
        cls = prof.loader.resolve(path)
        if isinstance(cls, griffe.Class):
            found.append((cls, prof.ext.mro(cls)))
    package_paths = {cls.path for cls, _ in found}
    return Profile(
        package=wheel.package, version=wheel.version, target=target, target_path=prof.target_path,
        base_version=base.generator.get("dagster", "unknown"),
        subclasses={cls.path: prof.subclass(cls, mro, package_paths) for cls, mro in found},
        generator={"compat": _version("compat"), "griffe": _version("griffe")},
        instance_factory=None if prof.instance_factory else False,
    )


def _new_target(base: Base, new: Side) -> str | None:
    """Where the base is on the new side: where it was defined, else the name the package imports."""
    loader = StaticLoader(new.search_paths)
    ext = Extractor(loader)
    for path in (base.path, base.imported_as):
        node = ext.class_node(path)
        if node is not None:
            module = node.module.path
            return f"{module}:{node.path[len(module) + 1:]}"
    return None


def _merge(per_base: list[tuple[str, list[Cause]]]) -> list[Cause]:
    """Causes of every base as one list: the same change seen through several bases (a member of
    a shared ancestor, same kind, subject and location) is one cause; ids say the base."""
    merged: dict[tuple, tuple[Cause, list[str]]] = {}
    for base, causes in per_base:
        for c in causes:
            key = (c.kind, c.subject, c.location or f"<{base}>")
            if key in merged:
                first, bases = merged[key]
                first.findings = sort_findings(first.findings + c.findings)
                first.downstream = sorted(set(first.downstream) | set(c.downstream), key=str)
                first.corpus = sorted(set(first.corpus) | set(c.corpus))
                if SEVERITY_RANK[c.severity] < SEVERITY_RANK[first.severity]:
                    first.severity = c.severity
                bases.append(base)
            else:
                merged[key] = (c, [base])
    out = []
    for c, bases in merged.values():
        names = sorted({b.rsplit(":", 1)[-1] for b in bases})
        c.id = f"{c.id}@{'+'.join(names)}"
        if not c.title.startswith(tuple(names)):
            c.title = f"{', '.join(names)}: {c.title}"
        out.append(c)
    return sorted(out, key=lambda c: (SEVERITY_RANK[c.severity], -len(c.downstream), -len(c.findings), c.id))


@dataclass
class Gathered:
    """What one package contributes, before any base is checked: its releases, its subclasses
    and their profiles against the old dagster, and its replayed overrides. The expensive half of
    a run (downloads, parsing, profiling, replays), and what a shard of a sharded run writes."""

    package: str
    version: str | None = None
    wanted: str | None = None
    new_version: str | None = None
    unavailable: str | None = None  # why the package could not be read (--all lists it, never fails)
    found: list[Found] = field(default_factory=list)
    profiles: dict[str, Profile] = field(default_factory=dict)  # per base target
    replayed: dict[tuple[str, str], str] = field(default_factory=dict)  # (subclass, base) -> verdict
    replay_findings: list[Finding] = field(default_factory=list)
    old_wheel: downstream.Wheel | None = None  # this run's only: not in a shard file
    new_wheel: downstream.Wheel | None = None

    def to_dict(self) -> dict:
        return {"package": self.package, "version": self.version, "wanted": self.wanted,
                "new_version": self.new_version, "unavailable": self.unavailable,
                "found": [{"subclass": f.subclass, "location": f.location,
                           "bases": [{"target": b.target, "imported_as": b.imported_as} for b in f.bases]}
                          for f in self.found],
                "profiles": {t: prof.to_dict() for t, prof in sorted(self.profiles.items())},
                "replayed": [{"subclass": a, "base": b, "verdict": v} for (a, b), v in sorted(self.replayed.items())],
                "replay_findings": [f.to_dict() for f in self.replay_findings]}

    @classmethod
    def from_dict(cls, d: dict, where: str | Path) -> Gathered:
        row = schemas.check(_GatheredRow, d, where)
        profile_model = schemas.file_model(Profile)
        for prof in row.profiles.values():
            schemas.check(profile_model, prof, where)
        return cls(package=row.package, version=row.version, wanted=row.wanted, new_version=row.new_version,
                   unavailable=row.unavailable,
                   found=[Found(f.subclass, f.location, [Base(b.target, b.imported_as) for b in f.bases]) for f in row.found],
                   profiles={t: Profile.from_dict(prof) for t, prof in row.profiles.items()},
                   replayed={(r.subclass, r.base): r.verdict for r in row.replayed},
                   replay_findings=[Finding.from_dict(f) for f in row.replay_findings])

    def info(self) -> dict:
        row = {"package": self.package, "version": self.version, "wanted": self.wanted,
               "new_version": self.new_version, "subclasses": len(self.found)}
        if self.unavailable is not None:
            row["unavailable"] = self.unavailable
        return row


class _ReplayedRow(schemas._Open):
    subclass: StrictStr
    base: StrictStr
    verdict: StrictStr


class _GatheredRow(schemas._Open):
    package: StrictStr
    version: StrictStr | None
    wanted: StrictStr | None
    new_version: StrictStr | None
    unavailable: StrictStr | None
    found: list[_FoundRow]
    profiles: dict[str, dict]
    replayed: list[_ReplayedRow]
    replay_findings: list[dict]


def _fetch(name: str, old_version: str, new_version: str, lenient: bool) -> Gathered:
    g = Gathered(name)
    try:
        g.old_wheel = downstream.fetch(name, old_version)
    except downstream.Unavailable as exc:
        if not lenient:
            raise
        g.unavailable = str(exc)
        return g
    g.version, g.wanted = g.old_wheel.version, g.old_wheel.wanted
    why = downstream.made_for(g.old_wheel, old_version) if lenient else None
    if why is not None:  # a release made for an older dagster (a package that stopped long ago)
        g.unavailable, g.old_wheel = why, None
        return g
    try:
        g.new_wheel = downstream.fetch(name, new_version)
    except CompatError:
        g.new_wheel = None  # a package discontinued since: its old release is still what users run
    g.new_version = g.new_wheel.version if g.new_wheel else None
    return g


def gather(old: Side, new: Side, names: list[str], *, behaviour: bool = True, lenient: bool = False,
           jobs: int = 4, progress: Callable[[str], None] = lambda _m: None,
           timings: list[str] | None = None) -> list[Gathered]:
    """Stage one, per package: its releases fetched, its subclasses found and profiled against the
    old side's bases, its overrides replayed. `lenient` (--all): a package that cannot be had is a
    row with why."""
    timings = timings if timings is not None else []
    started = time.perf_counter()
    old_version, new_version = _side_version(old), _side_version(new)
    cache = _Cache(old)
    progress(f"fetching {len(names)} package(s) for dagster {old_version} and {new_version}")
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(names)))) as pool:  # pip waits on the network
        gathered = list(pool.map(lambda n: _fetch(n, old_version, new_version, lenient), names))
    timings.append(f"wheels: {time.perf_counter() - started:.1f}s")

    t = time.perf_counter()
    for g in gathered:
        if g.old_wheel is None:
            continue
        progress(f"finding subclasses of dagster classes in {g.old_wheel.label}")
        try:
            g.found = cache.discovery(g.old_wheel, old.search_paths)
        except downstream.Unavailable as exc:
            if not lenient:
                raise
            g.unavailable = str(exc)
    timings.append(f"discovery: {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    old_surfaces: dict[str, Surface] = {}
    for g in gathered:
        w_old = g.old_wheel
        if w_old is None or g.unavailable is not None:
            continue
        profilers: dict[str, Profiler] = {}  # the package's files, parsed once for all its bases
        for target in sorted({b.target for f in g.found for b in f.bases}):
            subs = [f.subclass for f in g.found if any(b.target == target for b in f.bases)]
            if target not in old_surfaces:
                old_surfaces[target] = side_surface(old, target)
            progress(f"profiling {len(subs)} subclass(es) of {target} in {w_old.label}")
            try:
                g.profiles[target] = cache.profile(w_old, target, lambda: _profile(
                    profilers, w_old, target, subs, old, old_surfaces[target]))
            except downstream.Unavailable as exc:
                if not lenient:
                    raise
                g.unavailable, g.found, g.profiles = str(exc), [], {}
                break
    timings.append(f"profiles: {time.perf_counter() - t:.1f}s")

    if behaviour:
        t = time.perf_counter()
        runnable = {g.package: g for g in gathered if g.package in ecosystem_replay.REPLAYED and g.old_wheel
                    and g.unavailable is None}
        if runnable:
            verdicts, got = ecosystem_replay.replay(old, new, {n: g.old_wheel for n, g in runnable.items()}, progress)
            subs = {n: {f.subclass for f in g.found} for n, g in runnable.items()}
            for (sub, base), verdict in verdicts.items():
                for n, g in runnable.items():
                    if sub in subs[n]:
                        g.replayed[(sub, base)] = verdict
            for f in got:
                for n, g in runnable.items():
                    if f.details.get("subclass") in subs[n]:
                        g.replay_findings.append(f)
            timings.append(f"behaviour replay: {time.perf_counter() - t:.1f}s")
    return gathered


def _followed(row: Pair, target: str, new_target: str | None, new_surface: Surface | None, new: Side,
              cache: _Cache) -> str:
    """Whether the package's release for the new dagster changed to follow what breaks the pair:
    its class profiled against the new dagster's base and checked against it, clean or not."""
    if not row.new_version or row.new_version == row.version:
        return "no new release"
    if new_target is None or new_surface is None:
        return "not followed"
    wheel = downstream.fetch(row.package, _side_version(new))
    def make() -> Profile:
        return _profile({}, wheel, new_target, [row.subclass], new, new_surface)
    prof = cache.profile(wheel, new_target, make, "against", new.content_digest())
    if row.subclass not in prof.subclasses:
        return "class removed"
    left = [f for f in check_profile(prof, new_surface) if (f.details or {}).get("subclass") == row.subclass
            and f.severity == BREAKING]
    return "not followed" if left else "followed"


def judge(old: Side, new: Side, gathered: list[Gathered], *, progress: Callable[[str], None] = lambda _m: None,
          timings: list[str] | None = None, witnesses: bool = True) -> EcosystemResult:
    """Stage two, per base: its surface on both sides, every package's profile checked against the
    new one, the findings joined into causes, one row per pair. With `witnesses`, every breaking
    cause no replay shows runs a witness on both sides (:mod:`compat.tools.ecosystem_witness`):
    unproven, it and its pairs are at most a warning."""
    timings = timings if timings is not None else []
    t = time.perf_counter()
    by_base = _bases(gathered)
    old_surfaces, new_targets, new_surfaces = _base_surfaces(old, new, by_base, progress)
    timings.append(f"surfaces: {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    pairs: list[Pair] = []
    per_base: list[tuple[str, list[Cause]]] = []
    findings: list[Finding] = []
    shapes: dict[str, dict] = {}
    new_ext = Extractor(StaticLoader(new.search_paths))  # the new dagster, parsed once for every base
    uses: dict[str, tuple[str | None, set[str]]] = {}
    cache = _Cache(old)
    for target in sorted(by_base):
        new_surface = new_surfaces.get(target)
        profiles, base_findings, rows = _checked(target, gathered, new_surface, new_ext, shapes)
        # no profiles: who breaks is exactly the pairs the profile checks flagged (a class that
        # merely uses a changed name, but overrides its caller too, is not listed)
        causes = build_causes(base_findings, old_surfaces[target], new_surface)
        effective = effective_severities(base_findings, old_surfaces[target], new_surface)
        _pair_verdicts(rows, base_findings, effective,
                       lambda row: _followed(row, target, new_targets[target], new_surface, new, cache))
        pairs += rows
        findings += base_findings
        per_base.append((target, causes))
        uses[target] = (new_targets[target], _used_names(profiles))
    timings.append(f"checks: {time.perf_counter() - t:.1f}s")

    causes = _merge(per_base)
    if any(g.replayed for g in gathered):
        ecosystem_replay.attach_witnesses(causes, old, new)
    if witnesses:
        t = time.perf_counter()
        _witness(causes, pairs, old, new, gathered, by_base, new_targets, progress)
        timings.append(f"witnesses: {time.perf_counter() - t:.1f}s")
    pairs.sort(key=lambda p: (SEVERITY_RANK.get(p.verdict, -1) if p.verdict != COMPATIBLE else 9,
                              p.package, p.subclass, p.base))
    return EcosystemResult(old_label=old.label, new_label=new.label, pairs=pairs, findings=sort_findings(findings),
                           causes=causes, packages=[g.info() for g in gathered], timings=timings, uses=uses)


def _bases(gathered: list[Gathered]) -> dict[str, Base]:
    """Every dagster base the gathered subclasses have, by target (as first seen)."""
    by_base: dict[str, Base] = {}
    for g in gathered:
        for f in g.found:
            for b in f.bases:
                by_base.setdefault(b.target, b)
    return by_base


def _base_surfaces(old: Side, new: Side, by_base: dict[str, Base], progress: Callable[[str], None]):
    """Each base's surface on the old side, the target it is on the new side (None: it is gone
    there), and its surface there."""
    old_surfaces: dict[str, Surface] = {}
    new_targets: dict[str, str | None] = {}
    new_surfaces: dict[str, Surface] = {}
    for target in sorted(by_base):
        progress(f"surfaces of {target}")
        old_surfaces[target] = side_surface(old, target)
        new_targets[target] = _new_target(by_base[target], new)
        if new_targets[target] is not None:
            new_surfaces[target] = side_surface(new, new_targets[target])
    return old_surfaces, new_targets, new_surfaces


def _checked(target: str, gathered: list[Gathered], new_surface: Surface | None, new_ext: Extractor,
             shapes: dict[str, dict]) -> tuple[list[Profile], list[Finding], list[Pair]]:
    """Every package's profile of the base `target` checked against the base's new surface, its
    replay's findings added, and one row per subclass of it: compatible until a finding says
    otherwise, or the base missing on the new side. `shapes`: the base's call shapes, read from
    the new dagster once per base."""
    base_findings: list[Finding] = []
    profiles: list[Profile] = []
    rows: list[Pair] = []
    for g in gathered:
        subs = [f for f in g.found if any(b.target == target for b in f.bases)]
        if not subs:
            continue
        prof = g.profiles[target]
        profiles.append(prof)
        if new_surface is not None and target not in shapes:
            node = new_ext.class_node(new_surface.cls.path)
            shapes[target] = base_call_shapes(new_ext, node) if node is not None else {}
        got = check_profile(prof, new_surface, shapes=shapes[target]) if new_surface is not None else []
        for f in got:
            f.details = {**(f.details or {}), "base": target}
        base_findings += got
        for f in subs:
            rows.append(Pair(package=g.package, version=g.version or "", new_version=g.new_version,
                             subclass=f.subclass, base=target, verdict=COMPATIBLE if new_surface is not None
                             else BASE_MISSING, location=f.location, replayed=g.replayed.get((f.subclass, target))))
    base_findings += [f for g in gathered for f in g.replay_findings if f.details.get("base") == target]
    return profiles, base_findings, rows


def _pair_verdicts(rows: list[Pair], base_findings: list[Finding], effective: dict[int, str],
                   followed: Callable[[Pair], str]) -> None:
    """Each pair's verdict: its worst finding, at the severity its cause gives it; a breaking
    pair also says whether it breaks at run time or for a type checker only, and whether the
    package's release for the new dagster followed the change (`followed`)."""
    for row in rows:
        mine = [f for f in base_findings if (f.details or {}).get("subclass") == row.subclass]
        row.findings = len(mine)
        worst = sorted((effective.get(id(f), f.severity) for f in mine), key=lambda s: SEVERITY_RANK[s])
        if row.verdict != BASE_MISSING and worst and worst[0] != INFO:
            row.verdict = worst[0]
        if row.verdict == BREAKING:
            hard = [f for f in mine if effective.get(id(f), f.severity) == BREAKING]
            row.breakage = "typing" if all(typing_only(f) for f in hard) else "runtime"
            if all(f.source == "behaviour" for f in hard):
                # only its replay breaks: the new release's profile cannot tell whether it followed
                row.followed = "seen by replay only"
            else:
                row.followed = followed(row)


def _used_names(profiles: list[Profile]) -> set[str]:
    """The base's names the profiled subclasses override, use, call up to or construct through."""
    used: set[str] = set()
    for prof in profiles:
        for sub in prof.subclasses.values():
            used |= set(sub.overrides) | set(sub.base_members) | set(sub.base_attributes)
            used |= {sc.name for sc in sub.super_calls if not sc.in_package and not sc.beside_base}
            used |= {"__init__"} if sub.constructor.calls_super_init or not sub.constructor.defined else set()
    return used


def _witness(causes: list[Cause], pairs: list[Pair], old: Side, new: Side, gathered: list[Gathered],
             by_base: dict[str, Base], new_targets: dict[str, str | None], progress: Callable[[str], None]) -> None:
    """Every breaking cause no replay shows put to a witness on both sides; an unproven one, and
    its pairs, become at most a warning."""
    wheels = {g.package: g.old_wheel for g in gathered if g.old_wheel is not None}
    old_version = _side_version(old)
    targets = {b: [b] + [n for n in [new_targets[b]] if n and n != b] for b in by_base}
    ecosystem_witness.attach(causes, old, new, lambda name: wheels.get(name) or downstream.fetch(name, old_version),
                             targets, progress)
    unproven = ecosystem_witness.unproven_pairs(causes)
    for row in pairs:
        if row.verdict == BREAKING and (row.subclass, row.base) in unproven:
            row.verdict, row.breakage, row.followed = WARNING, None, None
    causes.sort(key=lambda c: (SEVERITY_RANK[c.severity], -len(c.downstream), -len(c.findings), c.id))


def run(old: Side, new: Side, packages: list[str] | None = None, *, behaviour: bool = True, lenient: bool = False,
        jobs: int = 4, progress: Callable[[str], None] = lambda _m: None) -> EcosystemResult:
    """Every (downstream subclass, dagster base) pair of `packages`, checked from `old` to `new`;
    with `behaviour`, the pairs whose base runs without a service also replayed on both sides."""
    started = time.perf_counter()
    timings: list[str] = []
    names = [downstream.check_name(p) for p in (packages or downstream.DEFAULT_PACKAGES)]
    gathered = gather(old, new, names, behaviour=behaviour, lenient=lenient, jobs=jobs, progress=progress,
                      timings=timings)
    result = judge(old, new, gathered, progress=progress, timings=timings, witnesses=behaviour)
    timings.append(f"total: {time.perf_counter() - started:.1f}s")
    return result


def griffe_side_by_side(result: EcosystemResult, old: Side, new: Side, *, markdown: bool) -> str:
    """What `griffe.find_breaking_changes` reports on the same bases: every breakage, and those on
    a member some downstream subclass overrides or uses, beside compat's breaking pairs."""
    load = lambda side: griffe.load("dagster", search_paths=side.search_paths, allow_inspection=False)  # noqa: E731
    old_pkg, new_pkg = load(old), load(new)

    def cls(pkg, target: str):
        try:
            obj = pkg.modules_collection.get_member(target.replace(":", "."))
            while isinstance(obj, griffe.Alias):
                obj = obj.final_target
        except Exception:  # griffe raises KeyError or an alias error for a path it cannot follow
            return None
        return obj if isinstance(obj, griffe.Class) else None

    rows = []
    for target, (new_target, used) in sorted(result.uses.items()):
        a, b = cls(old_pkg, target), cls(new_pkg, new_target or target)
        if a is None or b is None:
            rows.append((target, None, None, used))
            continue
        members = [breakage_member(br, a, b) for br in griffe.find_breaking_changes(a, b)]
        rows.append((target, len(members), sum(1 for m in members if m in used), used))
    ours = {}
    for p in result.pairs:
        if p.verdict not in (COMPATIBLE, INFO):
            ours[p.base] = ours.get(p.base, 0) + 1
    total = sum(r[1] or 0 for r in rows)
    relevant = sum(r[2] or 0 for r in rows)
    flagged = [r for r in rows if r[1]]
    head = (f"griffe.find_breaking_changes on the same {len(rows)} bases: {total} breakages on {len(flagged)} bases, "
            f"{relevant} of them on a member a downstream subclass overrides or uses; compat: "
            f"{sum(ours.values())} pair(s) not compatible on {len(ours)} base(s)")
    if not markdown:
        lines = ["", head]
        lines += [f"  {t.rsplit(':', 1)[-1]}: griffe {n if n is not None else 'cannot load'}"
                  f" ({k if k is not None else '-'} on used members); compat {ours.get(t, 0)} pair(s)"
                  for t, n, k, _ in rows if n or ours.get(t) or n is None]
        return "\n".join(lines) + "\n"
    lines = ["", "## Side by side: `griffe.find_breaking_changes` on the same bases", "", head, "",
             "| base | griffe breakages | on members subclasses use | compat pairs not compatible |",
             "|---|---:|---:|---:|"]
    lines += [f"| `{t.rsplit(':', 1)[-1]}` | {n if n is not None else 'cannot load'} | {k if k is not None else '-'} | "
              f"{ours.get(t, 0)} |" for t, n, k, _ in rows if n or ours.get(t) or n is None]
    return "\n".join(lines) + "\n"


__all__ = ["EcosystemResult", "Gathered", "Pair", "gather", "judge", "run", "griffe_side_by_side", "BASE_MISSING", "COMPATIBLE", "BREAKING"]

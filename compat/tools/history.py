"""`compat history` and `compat bisect --behaviour`: causes across a range of releases.

Every release of the range is recorded once (surface, profiles and, unless static only, the
gate's behaviour cells) through :func:`compat.pipeline.cached_record`, so a recording is made
once per release and harness and shared by every later history or bisect. Two recorded
releases are then compared without replaying anything (:func:`compat.pipeline.check_recorded`):
a recording runs the very cells a replay would. Each comparison's causes are cached too, so a
rerun that adds one release pays for that release's recording and its two comparisons.

A cause's life is read off the comparisons against the first release: it is present from the
release where `FROM -> R` first shows it until the first release where it is gone. A change can
appear and be undone again (a dispatch dropped in one release and restored in the next), so
lives are intervals, and `bisect --behaviour` probes every release by default; `--binary`
assumes one transition and probes about log2(N) releases.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from compat import envs, pipeline, progress as progress_mod
from compat.behaviour.replay import DEFAULT_CELL_SET, cell_label
from compat.model import jsonio, schemas
from compat.baseline import Baseline
from compat.model.errors import CompatError
from compat.model.findings import SEVERITIES
from compat.sides import Side
from compat.static.extract import DEFAULT_TARGET
from compat.tools.bisect import _key, released_versions

STEP_SCHEMA, STEP_VERSION = "compat.history-step", 1
SCHEMA, VERSION = "compat.history", 1


def _noop(msg: str) -> None:
    pass


def release_range(start: str, end: str, versions: list[str] | None = None) -> list[str]:
    """The final releases from `start` to `end`, both included, oldest first."""
    for v in (start, end):
        envs.check_version(v)
    every = versions if versions is not None else released_versions()
    for flag, v in (("--from", start), ("--to", end)):
        if v not in every:
            raise CompatError(f"{flag} {v}: not a released dagster version")
    chain = [v for v in every if _key(start) <= _key(v) <= _key(end)]
    if len(chain) < 2:
        raise CompatError(f"--from {start} must be older than --to {end}")
    return chain


def release_side(version: str) -> Side:
    return Side(f"dagster=={version}", envs.Spec(text=version, version=version))


@dataclass
class Recorder:
    """Recordings and comparisons of releases, each made once and cached by content."""

    target: str = DEFAULT_TARGET
    behaviour: bool = True
    jobs: int = 1
    cell_set: str = DEFAULT_CELL_SET
    progress: Callable[[str], None] = _noop
    probes: list[tuple[str, float]] = field(default_factory=list)  # (release, seconds) of recordings
    _recordings: dict[str, Baseline] = field(default_factory=dict)

    def recording(self, version: str) -> Baseline:
        if version not in self._recordings:
            started = time.perf_counter()
            self._recordings[version] = pipeline.cached_record(
                release_side(version), target=self.target, behaviour=self.behaviour, jobs=self.jobs,
                cell_set=self.cell_set if self.behaviour else None, progress=self.progress)
            self.probes.append((version, time.perf_counter() - started))
        return self._recordings[version]

    def causes(self, old: str, new: str) -> list[dict[str, Any]]:
        """The causes of `new` against `old`, as plain data (cached by the two recordings)."""
        a, b = self.recording(old), self.recording(new)
        key = hashlib.sha256("\0".join([pipeline.comparing_digest(), a.path.parent.name, b.path.parent.name,
                                        str(self.behaviour)]).encode()).hexdigest()[:24]
        path = envs.cache_dir() / "history" / f"{key}.json"
        if path.exists():
            data = jsonio.read_json(path, schema=STEP_SCHEMA, versions=(STEP_VERSION,))
            return schemas.check(schemas.HistoryStep, data, path).model_dump()["causes"]
        self.progress(f"comparing dagster=={old} -> dagster=={new}")
        result = pipeline.check_recorded(a, b, release_side(new), behaviour=self.behaviour)
        causes = [summary(c) for c in result.causes]
        jsonio.write_json(path, {"schema": STEP_SCHEMA, "schema_version": STEP_VERSION, "old": old, "new": new,
                                 "causes": causes}, 3)
        return causes


def summary(cause) -> dict[str, Any]:
    """What a history keeps of a cause: enough to draw it, name it and find its cells."""
    layers = cause.layers()
    cells = sorted({cell_label(f.details["cell"]) for f in cause.findings + cause.also
                    if f.source == "behaviour" and isinstance((f.details or {}).get("cell"), dict)})
    return {"id": cause.id, "severity": cause.severity, "title": cause.title, "location": cause.location,
            "packages": cause.packages, "layers": layers, "cells": cells}


@dataclass
class Life:
    """One cause over the range: the intervals [introduced, removed) of releases showing it."""

    id: str
    severity: str
    title: str
    packages: list[str]
    intervals: list[tuple[str, str | None]]  # (first release showing it, first release without it or None)
    layers: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "title": self.title, "packages": self.packages,
                "layers": self.layers,
                "intervals": [{"introduced": a, "removed": b} for a, b in self.intervals]}


def lives(chain: list[str], present: dict[str, dict[str, dict]]) -> list[Life]:
    """`present[release][cause id]` (the causes of FROM -> release) read as lives, in the order
    they appear, most severe first among those of one release."""
    out: dict[str, Life] = {}
    for i, v in enumerate(chain[1:], start=1):
        for cid, c in present[v].items():
            life = out.get(cid)
            if life is None:
                life = out[cid] = Life(cid, c["severity"], c["title"], [], [], [])
            if not life.intervals or life.intervals[-1][1] is not None:
                life.intervals.append((v, None))
            if SEVERITIES.index(c["severity"]) < SEVERITIES.index(life.severity):
                life.severity = c["severity"]
            life.title = c["title"]
            life.packages = sorted(set(life.packages) | set(c["packages"]))
            life.layers = sorted(set(life.layers) | set(c["layers"]))
        for cid, life in out.items():
            if cid not in present[v] and life.intervals and life.intervals[-1][1] is None:
                life.intervals[-1] = (life.intervals[-1][0], v)
    order = {v: i for i, v in enumerate(chain)}
    return sorted(out.values(), key=lambda x: (order[x.intervals[0][0]], SEVERITIES.index(x.severity), x.id))


@dataclass
class History:
    start: str
    end: str
    target: str
    behaviour: bool
    releases: list[str]
    against_start: dict[str, list[dict]]  # release -> causes of FROM -> release
    against_previous: dict[str, list[dict]]  # release -> causes of its predecessor -> release
    cells: str | None = None  # the behaviour cell set recorded (None: static only)

    @property
    def lives(self) -> list[Life]:
        return lives(self.releases, {v: {c["id"]: c for c in cs} for v, cs in self.against_start.items()})

    def as_dict(self) -> dict[str, Any]:
        def brief(causes):
            return [{k: c[k] for k in ("id", "severity", "title", "packages", "layers")} for c in causes]

        return {
            "schema": SCHEMA, "schema_version": VERSION, "from": self.start, "to": self.end,
            "target": self.target, "behaviour": self.behaviour, "cells": self.cells, "releases": self.releases,
            "causes": [life.as_dict() for life in self.lives],
            "steps": [{"release": v, "previous": self.releases[i],
                       "against_previous": brief(self.against_previous[v]),
                       "causes_against_from": len(self.against_start[v])}
                      for i, v in enumerate(self.releases[1:])],
        }


def history(start: str, end: str, *, target: str = DEFAULT_TARGET, behaviour: bool = True, jobs: int = 1,
            versions: list[str] | None = None, cell_set: str = DEFAULT_CELL_SET,
            progress: Callable[[str], None] = _noop) -> History:
    """Every release of the range against its predecessor and against `start`."""
    chain = release_range(start, end, versions)
    against_start, against_previous = _steps(chain, chain[1:], target=target, behaviour=behaviour, jobs=jobs,
                                             cell_set=cell_set, progress=progress)
    return History(start, end, target, behaviour, chain, against_start, against_previous,
                   cell_set if behaviour else None)


def _steps(chain: list[str], releases: list[str], *, target: str, behaviour: bool, jobs: int, cell_set: str,
           progress: Callable[[str], None]) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """The causes of each of `releases` against the first of `chain` and against its predecessor."""
    start = chain[0]
    rec = Recorder(target=target, behaviour=behaviour, jobs=jobs, cell_set=cell_set, progress=progress)
    against_start: dict[str, list[dict]] = {}
    against_previous: dict[str, list[dict]] = {}
    with progress_mod.bar(len(releases) + 1, "history: releases recorded and compared") as advance:
        rec.recording(start)
        advance()
        for v in releases:
            prev = chain[chain.index(v) - 1]
            against_start[v] = rec.causes(start, v)
            against_previous[v] = against_start[v] if prev == start else rec.causes(prev, v)
            advance()
    return against_start, against_previous


def history_shard(start: str, end: str, shard: tuple[int, int], *, target: str = DEFAULT_TARGET,
                  behaviour: bool = True, jobs: int = 1, versions: list[str] | None = None,
                  cell_set: str = DEFAULT_CELL_SET, progress: Callable[[str], None] = _noop) -> str:
    """Shard K of N of a history, as the JSON `compat merge` joins: the steps of every N-th
    release of the range (each recorded with its predecessor and the first release)."""
    from compat.tools import shards

    chain = release_range(start, end, versions)
    mine = shards.select(chain[1:], shard)
    against_start, against_previous = _steps(chain, mine, target=target, behaviour=behaviour, jobs=jobs,
                                             cell_set=cell_set, progress=progress)
    steps = {v: {"against_start": against_start[v], "against_previous": against_previous[v]} for v in mine}
    return shards.history_shard(start, end, target, behaviour, cell_set if behaviour else None, chain, shard, steps)


# --- bisect --behaviour -----------------------------------------------------------------------
@dataclass
class Located:
    """Where one behaviour divergence from FROM was seen: its intervals and the probes made."""

    what: str  # a cause id, or a cell label
    severity: str
    title: str
    intervals: list[tuple[str, str | None]]
    probed: list[str]
    exact: bool  # every release probed (False: binary search, which assumes one transition)
    clean_before: list[str] = field(default_factory=list)  # per interval: the release before it, still clean


def _behaviour_keys(causes: list[dict], cause: str | None, cell: str | None) -> dict[str, dict]:
    """What a probe sees: the behaviour causes (or the cells) of FROM -> release that match."""
    out = {}
    for c in causes:
        if "behaviour" not in c["layers"]:
            continue
        if cell is not None:
            for label in c["cells"]:
                if label == cell or cell in label.split("/"):
                    out[label] = c
        elif cause is None or c["id"] == cause:
            out[c["id"]] = c
    return out


def dispatches_to(base: Baseline, member: str) -> dict[str, tuple[tuple[str, int], ...]]:
    """Per recorded cell: which base methods dispatched to `member` through `self`, how often.

    The class a caller is defined in is left out: a refactor that moves a method into a mixin
    keeps the dispatch."""
    out = {}
    for path in base.trace_files():
        counts: dict[str, int] = {}
        for ev in schemas.read_trace(path).get("dispatch", []):
            if ev.get("member") == member and ev.get("via") == "self":
                counts[ev["caller"]] = counts.get(ev["caller"], 0) + 1
        out[path.name] = tuple(sorted(counts.items()))
    return out


def _dispatch_probe(rec: Recorder, start: str, member: str) -> Callable[[str], dict[str, dict]]:
    """A probe that sees a divergence when any cell dispatches to `member` otherwise than on
    `start`. Finer than the causes: a cell reports its first divergence only, so a dispatch lost
    later in a cell whose earlier one changed too is a cause's finding no more. One divergence per
    caller and direction (fewer or more dispatches from it): a dispatch lost in one release and a
    new path to the member added in a later one are two changes, each with its own interval."""
    old = dispatches_to(rec.recording(start), member)

    def text(calls):
        return ", ".join(f"{c} x{n}" for c, n in calls) or "none"

    def probe(v: str) -> dict[str, dict]:
        new = dispatches_to(rec.recording(v), member)
        changes: dict[tuple[str, str], list[str]] = {}
        for cell in sorted(old):
            was, now = dict(old[cell]), dict(new.get(cell, ()))
            for caller in sorted(set(was) | set(now)):
                if was.get(caller, 0) != now.get(caller, 0):
                    way = "fewer" if now.get(caller, 0) < was.get(caller, 0) else "more"
                    changes.setdefault((way, caller), []).append(cell)
        found = {}
        for (way, caller), cells in sorted(changes.items()):
            first = cells[0]
            title = (f"{len(cells)} of {len(old)} cells dispatch to `{member}` {way} times from `{caller}` than on "
                     f"{start}; e.g. {first.removesuffix('.json')}: {text(old[first])} -> {text(new.get(first, ()))}")
            # an override no longer reached is a break; one reached where it was not, a warning (as
            # the causes judge a lost and a gained dispatch)
            found[f"dispatches-to:{member}:{way}-from:{caller}"] = {
                "severity": "breaking" if way == "fewer" else "warning", "title": title, "packages": [],
                "layers": ["behaviour"]}
        return found

    return probe


def bisect_behaviour(start: str, end: str, *, cause: str | None = None, cell: str | None = None,
                     member: str | None = None, binary: bool = False, target: str = DEFAULT_TARGET, jobs: int = 1,
                     versions: list[str] | None = None, cell_set: str = DEFAULT_CELL_SET,
                     progress: Callable[[str], None] = _noop) -> tuple[list[Located], Recorder]:
    """The releases where behaviour diverges from `start`: by default every release is probed
    and each divergence reported as intervals (it may appear, be fixed and come back);
    `binary` assumes one transition and needs the divergence to be present at `end`."""
    chain = release_range(start, end, versions)
    rec = Recorder(target=target, behaviour=True, jobs=jobs, cell_set=cell_set, progress=progress)
    seen: dict[str, dict[str, dict]] = {}
    if sum(x is not None for x in (cause, cell, member)) > 1:
        raise CompatError("choose one of --cause, --cell, --member")
    look = _dispatch_probe(rec, start, member) if member else lambda v: _behaviour_keys(rec.causes(start, v), cause, cell)

    def probe(v: str) -> dict[str, dict]:
        if v not in seen:
            seen[v] = look(v)
        return seen[v]

    if not binary:
        with progress_mod.bar(len(chain) - 1, "bisect: releases probed") as advance:
            for v in chain[1:]:
                probe(v)
                advance()
        found = lives(chain, seen)
        located = [Located(x.id, x.severity, x.title, x.intervals, chain[1:], True,
                           [chain[chain.index(a) - 1] for a, _ in x.intervals]) for x in found]
    else:
        at_end = probe(end)
        located = []
        for key, c in sorted(at_end.items()):
            lo, hi = 0, len(chain) - 1  # absent at lo (start itself), present at hi
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if key in probe(chain[mid]):
                    hi = mid
                else:
                    lo = mid
            located.append(Located(key, c["severity"], c["title"], [(chain[hi], None)],
                                   [v for v in chain if v in seen], False, [chain[lo]]))
    if not located:
        what = (f"cause {cause}" if cause else f"cell {cell}" if cell else f"dispatch to {member}" if member
                else "behaviour divergence")
        where = f" at {end} (--binary needs it there; leave it out to probe every release)" if binary else ""
        raise CompatError(f"no {what} from {start} in {start}..{end}{where}: nothing to bisect")
    return located, rec


def render_bisect(located: list[Located], rec: Recorder, start: str, end: str, elapsed: float) -> str:
    exact = all(x.exact for x in located)
    how = ("every release probed" if exact else
           "binary search: assumes a divergence, once introduced, stays (probe every release without --binary)")
    lines = [f"behaviour divergences from dagster=={start}, {start} -> {end} ({how}):"]
    for x in located:
        spans = []
        for (a, b), clean in zip(x.intervals, x.clean_before):
            spans.append(f"introduced in {a} ({clean} clean), " + (f"fixed in {b}" if b else f"still at {end}"))
        lines.append(f"  {x.severity:<8} {x.what}: {'; '.join(spans)}")
        lines.append(f"           {x.title}")
    probed = sorted({v for v, _ in rec.probes}, key=_key)
    lines.append(f"probes: {len(probed)} releases recorded or reused ({', '.join(probed)}); "
                 f"wall time {elapsed:.1f}s")
    return "\n".join(lines)

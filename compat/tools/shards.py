"""`--shard K/N` and `compat merge`: one ecosystem or history run split over CI matrix jobs.

A run's expensive half is independent per item: an ecosystem run fetches, parses, profiles and
replays each package on its own (:func:`compat.tools.ecosystem.gather`), a history records and
compares each release against its predecessor and the first release on its own. Shard K of N takes
every N-th item from the K-th (packages in the run's order, releases oldest first) and writes what
that half produced as JSON, and `compat merge` joins the N shard files and does the cheap
half once: for an ecosystem, every base checked over every package's profiles, the causes and the
pairs (:func:`compat.tools.ecosystem.judge`); for a history, the causes' lives. So the merged
output is the unsharded run's, byte for byte, and there is no scheduler: the CI matrix is one.

A shard file says which run it belongs to (the sides, the whole selection, N); merge refuses
shards of different runs, a missing or repeated shard, and any file that fails its schema.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from pydantic import StrictBool, StrictInt, StrictStr

from compat import sides
from compat.model import jsonio, schemas
from compat.model.errors import CompatError

ECOSYSTEM_SHARD, HISTORY_SHARD, SHARD_VERSION = "compat.ecosystem-shard", "compat.history-shard", 1


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N (an argparse type)."""
    k, sep, n = text.partition("/")
    if not sep or not k.isdigit() or not n.isdigit() or not 1 <= int(k) <= int(n):
        raise argparse.ArgumentTypeError(f"{text!r}: expected K/N with 1 <= K <= N, e.g. 2/4")
    return int(k), int(n)


def select(items: list, shard: tuple[int, int]) -> list:
    """Shard K of N: items K-1, K-1+N, K-1+2N... (round robin keeps neighbours apart: the
    releases of one minor line, the packages of one family)."""
    k, n = shard
    return items[k - 1::n]


class EcosystemShard(schemas._Open):
    old: StrictStr
    new: StrictStr
    packages: list[StrictStr]
    behaviour: StrictBool
    path_prefix: StrictStr | None
    shard: list[StrictInt]
    gathered: list[dict]


class HistoryShard(schemas._Open):
    start: StrictStr
    end: StrictStr
    target: StrictStr
    behaviour: StrictBool
    cells: StrictStr | None
    releases: list[StrictStr]
    shard: list[StrictInt]
    steps: dict[str, dict[str, list[dict]]]


# --- writing ----------------------------------------------------------------------------------
def ecosystem_shard(old_text: str, new_text: str, packages: list[str], behaviour: bool, path_prefix: str | None,
                    shard: tuple[int, int], gathered: list) -> str:
    return jsonio.dumps({"schema": ECOSYSTEM_SHARD, "schema_version": SHARD_VERSION, "old": old_text, "new": new_text,
                         "packages": packages, "behaviour": behaviour, "path_prefix": path_prefix,
                         "shard": list(shard), "gathered": [g.to_dict() for g in gathered]})


def history_shard(start: str, end: str, target: str, behaviour: bool, cells: str | None, releases: list[str],
                  shard: tuple[int, int], steps: dict[str, dict[str, list[dict]]]) -> str:
    return jsonio.dumps({"schema": HISTORY_SHARD, "schema_version": SHARD_VERSION, "start": start, "end": end,
                         "target": target, "behaviour": behaviour, "cells": cells, "releases": releases,
                         "shard": list(shard), "steps": steps}, 4)


# --- merging ----------------------------------------------------------------------------------
def _read(paths: list[str]) -> tuple[str, list[tuple[Path, Any]]]:
    if not paths:
        raise CompatError("merge: name at least one shard file")
    kinds, out = set(), []
    for text in paths:
        path = Path(text)
        if not path.is_file():
            raise CompatError(f"{path}: no such shard file")
        data = _read_either(path)
        kind = data["schema"]
        kinds.add(kind)
        out.append((path, schemas.check(EcosystemShard if kind == ECOSYSTEM_SHARD else HistoryShard, data, path,
                                        hint="write it again with --shard")))
    if len(kinds) > 1:
        raise CompatError("merge: ecosystem and history shards cannot be merged together")
    return kinds.pop(), out


def _read_either(path: Path) -> dict:
    try:
        return jsonio.read_json(path, schema=ECOSYSTEM_SHARD, versions=(SHARD_VERSION,))
    except CompatError as first:
        if f"expected {ECOSYSTEM_SHARD!r}" not in str(first):
            raise
        try:
            return jsonio.read_json(path, schema=HISTORY_SHARD, versions=(SHARD_VERSION,))
        except CompatError as second:
            if f"expected {HISTORY_SHARD!r}" not in str(second):
                raise
        raise CompatError(f"{path}: not a shard of `compat ecosystem --shard` or `compat history --shard`") from None


def _check_cover(shards: list[tuple[Path, Any]], same: Callable[[Any], tuple]) -> None:
    """One run's shards, each once, all N of them."""
    first_path, first = shards[0]
    n = first.shard[1]
    seen: dict[int, Path] = {}
    for path, s in shards:
        if len(s.shard) != 2 or not 1 <= s.shard[0] <= s.shard[1]:
            raise CompatError(f"{path}: shard: expected [K, N] with 1 <= K <= N")
        if same(s) != same(first) or s.shard[1] != n:
            raise CompatError(f"{path}: a shard of another run than {first_path} (its sides, selection or N differ)")
        if s.shard[0] in seen:
            raise CompatError(f"{path}: shard {s.shard[0]}/{n} again (also {seen[s.shard[0]]})")
        seen[s.shard[0]] = path
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        raise CompatError(f"merge: shard(s) {', '.join(f'{k}/{n}' for k in missing)} missing")


def merge_ecosystem(shards: list[tuple[Path, EcosystemShard]], progress: Callable[[str], None]):
    """The unsharded run's result from its shards (stage two over every package's stage one)."""
    from compat.tools import ecosystem

    _check_cover(shards, lambda s: (s.old, s.new, s.packages, s.behaviour, s.path_prefix))
    first = shards[0][1]
    gathered: dict[str, Any] = {}
    for path, s in shards:
        for row in s.gathered:
            g = ecosystem.Gathered.from_dict(row, path)
            gathered[g.package] = g
        wanted = set(select(first.packages, tuple(s.shard)))
        got = {row.get("package") for row in s.gathered}
        if got != wanted:
            raise CompatError(f"{path}: holds packages {sorted(got ^ wanted)[:3]} against its shard {s.shard[0]}/{s.shard[1]}")
    old, new = sides.resolve(first.old), sides.resolve(first.new)
    result = ecosystem.judge(old, new, [gathered[n] for n in first.packages], progress=progress,
                             witnesses=first.behaviour)
    return result, new, first.path_prefix


def merge_history(shards: list[tuple[Path, HistoryShard]]):
    from compat.tools.history import History

    _check_cover(shards, lambda s: (s.start, s.end, s.target, s.behaviour, s.cells, s.releases))
    first = shards[0][1]
    against_start: dict[str, list[dict]] = {}
    against_previous: dict[str, list[dict]] = {}
    for path, s in shards:
        wanted = set(select(first.releases[1:], tuple(s.shard)))
        if set(s.steps) != wanted:
            raise CompatError(f"{path}: holds releases {sorted(set(s.steps) ^ wanted)[:3]} against its shard "
                              f"{s.shard[0]}/{s.shard[1]}")
        for v, step in s.steps.items():
            if set(step) != {"against_start", "against_previous"}:
                raise CompatError(f"{path}: steps.{v}: expected against_start and against_previous")
            for key, causes in step.items():
                for c in causes:
                    schemas.check(schemas.HistoryCause, c, path, hint="write it again with --shard")
            against_start[v], against_previous[v] = step["against_start"], step["against_previous"]
    return History(first.start, first.end, first.target, first.behaviour, first.releases, against_start,
                   against_previous, first.cells)


def read_shards(paths: list[str]) -> tuple[str, list[tuple[Path, Any]]]:
    return _read(paths)


__all__ = ["ECOSYSTEM_SHARD", "HISTORY_SHARD", "parse_shard", "select", "ecosystem_shard", "history_shard",
           "read_shards", "merge_ecosystem", "merge_history"]

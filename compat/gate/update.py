"""`--compat-update`: re-record the baseline atomically and say what changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from compat import sides
from compat.gate import accepted as accepted_mod
from compat.model import jsonio
from compat.baseline import Baseline, check_replaceable_baseline
from compat.model.baseline import READ_VERSIONS, SCHEMA, refuse_links
from compat.pipeline import static_findings
from compat.record import record_baseline
from compat.model.errors import CompatError
from compat.model.findings import summary
from compat.rules.registry import REPLAY_LAYERS, RULES
from compat.static.diff import compare_surfaces
from compat.static.extract import DEFAULT_TARGET, read_surface, side_surface


def _digests(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.json"))
        if p.is_file()
    }


def update_baseline(settings) -> str:
    """Record a new baseline over settings.baseline; return a readable summary of changes.

    All or nothing: what could refuse the update (a folder that is no baseline, an
    accepted.json naming an unknown rule, a manifest naming a target nobody asked for) is
    checked before anything is recorded, and the accepted entries are pruned in the new
    recording before it is swapped in."""

    root = check_replaceable_baseline(settings.baseline)
    manifest = None
    if (root / "manifest.json").is_file():  # a baseline (an empty or absent folder has none)
        manifest = jsonio.read_json(root / "manifest.json", schema=SCHEMA, versions=READ_VERSIONS)
        refuse_links(root)
        accepted_mod.load(root)
    before = _digests(root)
    old_surface = None
    if (root / "surface.json").is_file():
        try:
            old_surface = read_surface(root / "surface.json")
        except CompatError:
            old_surface = None  # a damaged surface of a baseline is simply re-recorded
    recorded = manifest.get("target") if manifest else None
    if settings.target is None and recorded not in (None, DEFAULT_TARGET):
        raise CompatError(f"baseline {root} was recorded for {recorded}; name that target (--compat-target or "
                          "[tool.compat] target) to re-record it: a baseline's manifest names no code to import")
    target = settings.target or DEFAULT_TARGET
    cell_set = manifest.get("cell_set") if manifest else None
    selection = manifest.get("selection") if manifest else None  # a narrowed recording stays narrowed
    pruned: list = [[], []]

    def prune(tmp: Path) -> None:
        pruned[:] = _prune_accepted(tmp, settings)

    record_baseline(root, python=settings.python, target=target, behaviour=settings.behaviour, cell_set=cell_set,
                    selection=selection if isinstance(selection, dict) else None, finish=prune)
    kept, dropped = pruned
    after = _digests(root)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    lines = [f"{root}: {len(added)} added, {len(changed)} changed, {len(removed)} removed files"]
    for label, names in (("added", added), ("changed", changed), ("removed", removed)):
        for name in names[:20]:
            lines.append(f"  {label}: {name}")
        if len(names) > 20:
            lines.append(f"  ... and {len(names) - 20} more {label}")
    if old_surface is not None and "surface.json" in changed:
        s = summary(compare_surfaces(old_surface, read_surface(root / "surface.json")))
        by = ", ".join(f"{v} {k}" for k, v in s["by_severity"].items() if v) or "none"
        lines.append(f"  surface findings old -> new: {s['total']} ({by})")
    if kept or dropped:
        lines.append(f"  accepted.json: {len(kept)} entries still match, {len(dropped)} dropped (now part of the baseline)")
        lines += [f"    dropped: {e.rule} {e.member} ({e.reason})" for e in dropped]
    return "\n".join(lines)


def _prune_accepted(root: Path, settings) -> tuple[list, list]:
    """Keep the accepted entries that still match a finding against the re-recorded baseline.

    A re-recorded baseline holds the accepted changes itself, so their entries would be stale at
    once and turn the gate red; an entry of a layer that was not re-recorded (behaviour, with
    behaviour off) still exempts what it did."""
    entries = accepted_mod.load(root)
    if not entries:
        return [], []
    base = Baseline(root)
    side = sides.from_options(python=settings.python, target=base.target)
    findings = static_findings(base, side_surface(side, base.target), side.search_paths)
    kept, dropped = [], []
    for e in entries:
        replay_only = RULES[e.rule].layer in REPLAY_LAYERS if e.rule in RULES else False
        still = any(e.matches(f) for f in findings) or (replay_only and not settings.behaviour)
        (kept if still else dropped).append(e)
    if dropped:
        accepted_mod.save(root, kept)
    return kept, dropped

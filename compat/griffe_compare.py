"""griffe's own breaking-change check on the same two classes, for side-by-side reports.

`griffe.find_breaking_changes` is the tool a maintainer would reach for first; showing its
answer next to ours, in the same run and on the same classes, makes the difference visible:
it compares public callers' view of one class, while the harness flattens mixins, keeps
protected members and attributes, and checks what subclasses rely on.
"""

from __future__ import annotations

import re

import griffe

from compat.errors import CompatError
from compat.findings import BREAKING, CALLERS, Finding


def _search_paths(source: str) -> list[str]:
    from compat import sides

    if source.endswith(".json"):
        raise CompatError(f"--griffe needs sources, not a snapshot file: {source}")
    return sides.resolve(source).search_paths


def load_class(source: str, target: str) -> griffe.Class:
    """griffe's default whole-package load, then the target class (aliases followed)."""
    from compat.surface import parse_target

    module, qualname = parse_target(target)
    package = griffe.load(module.split(".")[0], search_paths=_search_paths(source), allow_inspection=False)
    obj = package.modules_collection.get_member(f"{module}.{qualname}")
    while isinstance(obj, griffe.Alias):
        obj = obj.final_target
    if not isinstance(obj, griffe.Class):
        raise CompatError(f"{target}: not a class in {source}")
    return obj


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def breakages_to_findings(old_cls: griffe.Class, new_cls: griffe.Class) -> list[Finding]:
    out = []
    for b in griffe.find_breaking_changes(old_cls, new_cls):
        path = b.obj.path
        for prefix in (new_cls.path + ".", old_cls.path + "."):
            if path.startswith(prefix):
                path = path[len(prefix):]
                break
        member = path.split(".")[0]
        out.append(
            Finding(
                rule="griffe-" + _slug(b.kind.value),
                severity=BREAKING,
                audience=CALLERS,
                member=member,
                message=f"griffe: {b.kind.value}",
                old=str(b.old_value) if b.old_value is not None else None,
                new=str(b.new_value) if b.new_value is not None else None,
                source="griffe",
            )
        )
    return out


def griffe_findings(old: str, new: str, target: str) -> list[Finding]:
    return breakages_to_findings(load_class(old, target), load_class(new, target))


def side_by_side(ours: list[Finding], theirs: list[Finding], *, markdown: bool) -> str:
    """Counts and per-member overlap of our findings and griffe's, for the same two classes."""
    from collections import Counter

    ours_by_member: dict[str, set[str]] = {}
    for f in ours:
        if f.severity != "info":
            ours_by_member.setdefault(f.member, set()).add(f.rule)
    theirs_by_member: dict[str, set[str]] = {}
    for f in theirs:
        theirs_by_member.setdefault(f.member, set()).add(f.rule.removeprefix("griffe-"))
    both = sorted(set(ours_by_member) & set(theirs_by_member))
    only_griffe = sorted(set(theirs_by_member) - set(ours_by_member))
    only_ours = sorted(set(ours_by_member) - set(theirs_by_member))
    kinds = Counter(f.rule.removeprefix("griffe-") for f in theirs)
    lines: list[str] = []
    if markdown:
        lines += ["", "## Side by side: `griffe.find_breaking_changes` on the same classes", "",
                  f"griffe reports {len(theirs)} breakages on {len(theirs_by_member)} members; compat reports "
                  f"breaking or warning findings on {len(ours_by_member)} members.", "",
                  "| griffe breakage kind | count |", "| --- | ---: |"]
        lines += [f"| {k} | {v} |" for k, v in sorted(kinds.items())]
        lines += ["", f"- members both flag: {len(both)}", f"- members only griffe flags: {len(only_griffe)}"
                  + (f" ({', '.join('`' + m + '`' for m in only_griffe)})" if only_griffe else ""),
                  f"- members only compat flags: {len(only_ours)}", ""]
        if only_ours:
            lines += ["<details><summary>members only compat flags, with its rules</summary>", ""]
            lines += [f"- `{m}`: {', '.join(sorted(ours_by_member[m]))}" for m in only_ours]
            lines += ["", "</details>", ""]
    else:
        lines += ["", f"griffe.find_breaking_changes on the same classes: {len(theirs)} breakages on "
                  f"{len(theirs_by_member)} members ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none'})",
                  f"  members both flag: {len(both)}; only griffe: {len(only_griffe)} {only_griffe if only_griffe else ''}; "
                  f"only compat: {len(only_ours)}"]
    return "\n".join(lines) + "\n"

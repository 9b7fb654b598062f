"""Cause kinds as objects: what a kind's cause is about (its subject, read from a finding's
structured details), its title and its fix hint.

A rule registers the kind of cause its findings belong to (``cause=`` in :mod:`compat.rules`);
:func:`key` asks that kind for the finding's (kind, subject), which may name another kind (a
removal that is a rename, an added name a subclass already uses, a cell whose divergence is a
lost dispatch). Titles and fixes are templates: ``{s}`` the subject, ``{edited}`` the base members
whose own code carries the change, ``{callers}`` the base members reaching it, ``{members}``,
``{n}``, ``{n_members}``, ``{renamed}``, ``{what}``, ``{obj}`` and ``{cls}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from compat.behaviour.compare import missing_import
from compat.catalogue import RULES
from compat.model.findings import INFO, Finding
from compat.rules.base import short

# a behaviour cell's first dispatch divergence -> the kind of its cause
CELL_CHANGE = {"missing": "dispatch-lost", "added": "dispatch-gained", "arguments": "dispatch-arguments"}


def bare(name: str) -> str:
    return name.removeprefix("self.").lstrip("_")


def sub_member(f: Finding) -> str:
    """The member a profile finding is about (its ``member`` also names the subclass); any other
    finding's member as it is."""
    return f.details["member_name"] if f.source == "profile" else f.member


Key = tuple[str, str]
# (the grouping's context: old and new surfaces, renames, lost_at, hints; the finding; its details;
# its member as the cause names it; the causes known so far) -> (kind, subject)
Subject = Callable[[Any, Finding, dict, str, "set[Key]"], Key]


@dataclass(frozen=True)
class CauseKind:
    name: str
    title: str | None  # None: a routing kind, whose findings always name another kind's cause
    fix: str
    fix_other: str = ""  # the fix for a base other than DagsterInstance (the ecosystem's), if it differs
    subject: Subject | None = None  # None: the subject is the finding's member

    def render_title(self, fmt: dict[str, Any]) -> str:
        return (self.title or self.name + ": {s}").format(**fmt)

    def render_fix(self, fmt: dict[str, Any], dagster_instance: bool) -> str:
        return (self.fix if dagster_instance or not self.fix_other else self.fix_other).format(**fmt)


def key(ctx: Any, f: Finding, known: set[Key]) -> Key:
    """(kind, subject) of the cause of `f`: the kind its rule registered, the subject as that kind
    reads it from the finding's structured details."""
    rule = RULES.get(f.rule)
    kind = KINDS.get(rule.cause) if rule is not None else None
    name = sub_member(f) if f.source == "profile" else f.member
    if kind is not None and kind.subject is not None:
        return kind.subject(ctx, f, f.details or {}, name, known)
    if f.source == "perf":
        return ("perf", f.member)
    return (f.rule, f.member)


def kind_of(name: str) -> CauseKind:
    """The kind named; a kind no rule declares (a rule's own id) gets a plain title and no fix."""
    return KINDS.get(name) or CauseKind(name, title=None, fix="")


# ---- subjects


def _dispatch_changed(ctx, f, d, name, known) -> Key:
    return (RULES[f.rule].cause, d.get("hook") or name)


def _dispatch_obscured(ctx, f, d, name, known) -> Key:
    for hook in sorted(d.get("hooks") or []):
        if ("dispatch-lost", hook) in known and f.member in ctx.lost_at(hook):
            return ("dispatch-lost", hook)
    return ("dispatch-obscured", f.member)


def _cell_dispatch(ctx, f, d, name, known) -> Key:
    return (CELL_CHANGE.get(d.get("change"), "dispatch-reordered"), d.get("member_name") or "?")


def _removed(ctx, f, d, name, known) -> Key:
    if f.source == "profile" and ctx.old is not None and name not in ctx.old.members:
        return ("attribute", bare(name))  # a protected attribute the subclass read is gone
    return removed_key(ctx, name)


def removed_key(ctx, name: str) -> Key:
    """A rename is its own cause; plain removals are one cause per visibility (they are one
    decision, with one fix: keep aliases)."""
    if name in ctx.renames:
        return ("renamed", name)
    m = ctx.old.members.get(name) if ctx.old is not None else None
    visibility = m.visibility if m is not None else ("protected" if name.startswith("_") else "public")
    return ("removed", visibility)


def _added(ctx, f, d, name, known) -> Key:
    if ("name-clash", bare(name)) in known:
        return ("name-clash", bare(name))
    for old_name, new_name in ctx.renames.items():
        if new_name == f.member:
            return ("renamed", old_name)
    if f.member.startswith("self."):
        return ("added", "instance attributes")
    where = ctx.new.members[f.member].defined_in if ctx.new is not None and f.member in ctx.new.members else ""
    return ("added", short(where) or "the class")


def _moved(ctx, f, d, name, known) -> Key:
    return ("moved", f"from {short(d.get('old_defined_in'))} to {short(d.get('new_defined_in'))}")


def _decorators(ctx, f, d, name, known) -> Key:
    parts = [f"removed @{x}" for x in d.get("removed") or []] + [f"added @{x}" for x in d.get("added") or []]
    return ("decorators", ", ".join(parts))  # decorators-changed names at least one of each finding


def _attribute(ctx, f, d, name, known) -> Key:
    # a behaviour cell names the attribute it saw set elsewhere; its member is the cell
    return (RULES[f.rule].cause, bare(d["attribute"] if f.source == "behaviour" and d.get("attribute") else name))


def _exports(ctx, f, d, name, known) -> Key:
    return ("incidental-exports" if f.severity == INFO else "exports", f.member.rsplit(".", 1)[0])


def _annotations(ctx, f, d, name, known) -> Key:
    return ("annotations", f.rule.removesuffix("-changed").replace("-", " ") + "s")  # "return annotations"


def _class(ctx, f, d, name, known) -> Key:
    return ("class", f.rule) if f.member == "<class>" else _named(ctx, f, d, name, known)


def _named(ctx, f, d, name, known) -> Key:
    return (RULES[f.rule].cause, name.rsplit(".", 1)[-1] if f.source == "griffe" else name)


def _result(ctx, f, d, name, known) -> Key:
    return ("result", d.get("step") or d.get("path") or (d.get("cell") or {}).get("scenario", "?"))


def _step(ctx, f, d, name, known) -> Key:
    return (RULES[f.rule].cause, d.get("step") or (d.get("cell") or {}).get("scenario", "?"))


def _state(ctx, f, d, name, known) -> Key:
    return ("state", re.sub(r"\[\d+\]", "[]", d.get("path") or "state"))


def _cell_error(ctx, f, d, name, known) -> Key:
    missing = (d.get("missing_name"), d.get("from_module")) if d.get("from_module") else \
        missing_import(d.get("exception") or f.new)
    if missing is not None:  # a name the module no longer exports: the export's cause
        return ("exports", missing[1])
    return ("cell-error", (f.new or "?").splitlines()[0][:80])


def _member(ctx, f, d, name, known) -> Key:
    return (RULES[f.rule].cause, f.member)


def _fuzz(ctx, f, d, name, known) -> Key:
    old, new = d.get("old_dispatched"), d.get("new_dispatched")
    if old is not None and new is not None:
        changed = [("dispatch-lost", n) for n in sorted(set(old) - set(new))] + \
                  [("dispatch-gained", n) for n in sorted(set(new) - set(old))]
        # the program's last step entered the base at `entry`: a dispatch change already
        # traced to an edit of that member explains it (create_run_for_job's rewrite both
        # stopped calling create_run and started reading run_storage)
        entry = d.get("entry")
        at_entry = sorted(k for k in known if k[0].startswith("dispatch") and entry in ctx.hints.get(k, ()))
        for k in [k for k in at_entry if k in changed] + at_entry:
            return k
        for k in changed:
            if k in known:
                return k
        if changed:
            return changed[0]
    return ("fuzz-result", d["last_op"])


KINDS: dict[str, CauseKind] = {k.name: k for k in (
    CauseKind("dispatch-lost",
        title='overrides of `{s}` are no longer reached from {edited}',
        fix=('In {edited}, keep dispatching through the instance: call `self.{s}` (or '
             '`instance.{s}` from a helper that is handed the instance) instead of reading private '
             'state or a helper directly, so that overrides of `{s}` keep running.'),
        fix_other=('In {edited}, keep calling `{s}` on the `{cls}` object wherever it was called '
                   'before, so that overrides of `{s}` keep running.'),
        subject=_dispatch_changed),
    CauseKind("dispatch-gained",
        title='the base now calls `{s}` through self from {edited}, where it did not before',
        fix=('If consulting `{s}` from {edited} is intended, say so in the release notes (overrides'
             ' of `{s}` now run there and must cope); otherwise read the state as before.'),
        subject=_dispatch_changed),
    CauseKind("dispatch-arguments",
        title='`{s}` is dispatched with other arguments from {edited}',
        fix=('Call `self.{s}` with the same argument shape as before (same positions and keywords):'
             ' overrides written against the old call may not accept the new one.')),
    CauseKind("dispatch-reordered",
        title='overridable members are called in another order around `{s}`',
        fix=('Keep the order in which the base calls overridable members; overrides that depend on '
             'it (a tag set before a run is stored) change behaviour.')),
    CauseKind("dispatch-obscured",
        title='`{s}` now hands self to code the static analysis cannot follow',
        fix=("Make sure the code that `{s}` now hands self to calls the instance's members "
             '(`instance.x(...)`), and keep a behaviour cell covering it.'),
        subject=_dispatch_obscured),
    CauseKind("member",
        title='{members}: {what}',
        fix=('Keep the signature and kind of {members}: accept the old parameter names and '
             'positions, add new parameters as optional keyword-only ones at the end, keep '
             'annotations as wide as before.'),
        subject=_named),
    CauseKind("dispatch-changed",
        title='{edited} changed what it dispatches through self: {what}',
        fix=('In {edited}, keep dispatching through the {obj} exactly as before (the same members, '
             'in the same order, with the same argument shapes).')),
    CauseKind("removed",
        title='{n_members} removed ({s}): {members}',
        fix=('Keep the removed members as thin (deprecated) aliases that delegate to their '
             'replacements; remove them only in a major release, after telling subclass authors '
             'what to override instead.'),
        subject=_removed),
    CauseKind("annotations",
        title='{s} changed on {n} member(s): {members}',
        fix=('Keep annotations at least as wide as before (return types no wider, parameter types '
             'no narrower), so that typed callers and typed overrides stay valid.'),
        subject=_annotations),
    CauseKind("renamed",
        title='`{s}` was renamed to `{renamed}`',
        fix=('Keep the old name as an alias that delegates to the new one, and have base code call '
             'the name subclasses override.')),
    CauseKind("name-clash",
        title='the base now defines `{s}`, a name subclasses already use',
        fix=('Rename the new base member `{s}`: subclasses already define that name, so theirs '
             "silently replaces the base's (or the base's write replaces theirs)."),
        subject=_attribute),
    CauseKind("added",
        title='new members in {s}',
        fix=('Nothing to fix unless a subclass already uses one of these names (then it is a name '
             'clash).'),
        subject=_added),
    CauseKind("attribute",
        title='instance attribute `self.{s}` changed',
        fix=('Keep assigning `self.{s}` in `__init__`, before anything a subclass can override '
             'runs.'),
        subject=_attribute),
    CauseKind("moved",
        title='members moved {s}',
        fix='Nothing to fix: the members still resolve through the MRO with the same signatures.',
        subject=_moved),
    CauseKind("decorators",
        title='decorators changed: {s}',
        fix='Nothing to fix unless the decorator changed behaviour a subclass relies on.',
        subject=_decorators),
    CauseKind("exports",
        title='`{s}` no longer exports {n} name(s): {members}',
        fix='Keep re-exporting the names from `{s}` (import them there from their new home).',
        subject=_exports),
    CauseKind("incidental-exports",
        title='`{s}` no longer re-exports {n} incidental name(s): {members}',
        fix='Nothing to fix unless users import these names from `{s}`; re-export them if they do.'),
    CauseKind("import",
        title='import path `{s}` changed',
        fix='Keep the old import path resolving to the class (re-export it).',
        subject=_named),
    CauseKind("class",
        title='the class: {s}',
        fix=('Keep the old bases reachable in the MRO; subclasses and isinstance checks depend on '
             'them.'),
        subject=_class),
    CauseKind("result",
        title='step `{s}` returns a different value',
        fix=('Restore the old result of `{s}`, or document the change: callers and subclasses see '
             'another value.'),
        subject=_result),
    CauseKind("exception",
        title='step `{s}` raises differently',
        fix='Keep raising the same exception type for `{s}`: callers catch it by type.',
        subject=_step),
    CauseKind("state",
        title='the final storage state differs at `{s}`',
        fix='Restore the old side effect: the storage holds something else after the same calls.',
        subject=_state),
    CauseKind("warning",
        title='step `{s}` emits other warnings',
        fix=('Do not emit the new warning from `{s}` for calls that were fine: under -W error it '
             'raises.'),
        subject=_step),
    CauseKind("cell-error",
        title='behaviour cells no longer run: {s}',
        fix=('Make the scenario run again: set-up that worked on the old class fails on the new '
             'one.'),
        subject=_cell_error),
    CauseKind("fuzz-result",
        title='generated programs ending in `{s}` give different results',
        fix='Run the reproduction on both versions and restore the old result of the last step.'),
    CauseKind("perf",
        title='`{s}` is slower',
        fix='Profile `{s}` on both versions; the new code path does more work.'),
    CauseKind("accepted",
        title='accepted.json entry for `{s}` is stale',
        fix='Remove the stale entry from accepted.json.',
        subject=_member),
    CauseKind("dispatch", title=None, fix="", subject=_cell_dispatch),  # a behaviour cell: its first divergence
    CauseKind("fuzz", title=None, fix="", subject=_fuzz),  # a program: the dispatch it changed, else its result
)}

"""The severity policy: what one change amounts to, from what its evidence shows.

A finding's own severity says how bad a change of its kind can be; :func:`_policy` says what
this change is (docs/severity.md writes the rules down): a dispatch that still runs, only
fewer times, is a warning; a step that crashed and now returns is a bug fix. The grouping
(:mod:`compat.causes.grouping`) applies it to every cause it builds, and the witnesses
(:mod:`compat.witness`) weaken what could break but does not, with the same arithmetic.
"""

from __future__ import annotations

from typing import Iterable

from compat.cause_kinds import bare as _bare
from compat.causes.cause import Cause, _names
from compat.model.findings import BREAKING, INFO, SEVERITY_RANK, WARNING
from compat.rules.parameters import parameter_renamed


def worst(severities: Iterable[str], default: str = INFO) -> str:
    ranked = sorted(severities, key=lambda s: SEVERITY_RANK[s])
    return ranked[0] if ranked else default


def _weaker(a: str, b: str) -> str:
    return a if SEVERITY_RANK[a] >= SEVERITY_RANK[b] else b


def _policy(c: Cause) -> None:
    """Severity by what the evidence shows, as docs/severity.md writes it down: the findings'
    own severities say how bad a change of that kind can be; these rules say what this change
    is. Witnesses (compat.witness) then decide whether what could break does."""

    def move(severity: str, why: str) -> None:
        c.severity, c.why = severity, why

    cells = [f.details or {} for f in c.findings if f.source == "behaviour"]
    lost = [d for d in cells if d.get("change") == "missing"]
    static = [f for f in c.findings if f.source != "behaviour"]
    if c.kind == "dispatch-lost" and lost and not static and lost == [d for d in cells if "change" in d] and all(
            d.get("still_called") or (d.get("caller_via") == "external" and
                                      d.get("member_name") not in (d.get("members_missing") or []))
            for d in lost):
        callers = _names(sorted({f"{d['caller_class']}.{d['caller']}" for d in lost if d.get("caller_class")}))
        c.title = f"dagster calls `{c.subject}` fewer times" + (f" from {callers}" if callers else "")
        move(_weaker(c.severity, WARNING), "the member is still called where it was (by dagster's code outside "
             "the instance, or by the instance into its storage), only fewer times: overrides still run")
        c.fix = (f"Nothing is skipped for good: overrides of `{c.subject}` still run. If they count calls or "
                 f"rely on running once per check, make sure the fewer calls are intended.")
    elif c.kind in ("dispatch-changed", "dispatch-reordered") and lost == [] and not static and cells and all(
            d.get("change") in ("added", "reordered") and not d.get("members_missing") for d in cells if "change" in d):
        move(_weaker(c.severity, WARNING), "every override that ran still runs, as often: the base now also calls "
             "some, or calls them in another order (dagster 1.13 opens an index transaction for asset tags): a "
             "warning unless its witness fails")
    elif c.kind == "dispatch-gained":
        move(_weaker(c.severity, WARNING), "a gained dispatch runs overrides where they did not run before: "
             "a warning unless its witness fails")
    elif c.kind == "dispatch-arguments" and cells:
        shapes = [(d.get("old_call"), d.get("new_call")) for d in cells]
        if all(o and n for o, n in shapes):
            if all(_to_keywords(o, n) for o, n in shapes):
                move(BREAKING, "arguments once passed by position are now passed by keyword: an override "
                     "that names its parameters otherwise raises TypeError")
            elif all(_to_keywords(n, o) for o, n in shapes):
                move(_weaker(c.severity, WARNING), "arguments once passed by keyword are now passed by "
                     "position: only an override that reads them from **kwargs by name breaks")
    elif c.kind == "exception" and cells and all("old_type" in d for d in cells):
        if all(d["old_type"] in CRASHES and d["new_type"] is None for d in cells):
            move(INFO, "a step that used to crash (a programming error such as AttributeError) now returns a "
                 "result: a bug fix, or a member the old side lacked (or a name it could not import)")
            c.fix = (f"Nothing breaks for callers; if `{c.subject.partition(':')[0]}` should still refuse "
                     f"this call, raise the old exception type again.")
        elif all(d["old_type"] is None and d["new_type"] is not None for d in cells):
            c.fix = (f"Accept the call `{c.subject}` as before, or document that it now raises: callers "
                     f"that got a value now get an exception.")
        elif all(d["old_type"] is not None and d["old_type"] == d["new_type"] for d in cells):
            move(INFO, "the same exception type with another message: callers catching it by type see no change")
            c.fix = (f"Nothing breaks: `{c.subject}` still raises the same exception type. If callers parse "
                     f"the message, keep its wording.")
    elif c.kind == "state" and cells and all(d.get("gained") for d in cells):
        move(_weaker(c.severity, WARNING), "the storage now holds something in addition (a key or a tag the old "
             "state lacked) and nothing it held changed: readers see more, not other values")
    elif c.kind == "state" and cells and all(d.get("reordered") for d in cells):
        move(_weaker(c.severity, WARNING), "the storage holds the same records, as many of each, in another "
             "order (dagster 1.13 writes a run's planned materializations before its planned checks), and at "
             "most something in addition: readers that list them see the new order; nothing is lost or changed")
    elif c.kind == "state" and c.subject.endswith(".__exception__.message"):
        move(INFO, "the storage could not be read on either side after the same steps; only how the read "
             "failed differs")
    elif c.kind == "name-clash":
        if c.downstream:  # the corpus's own classes are listed under c.corpus
            move(BREAKING, "a real downstream subclass already uses the name")
        else:
            move(_weaker(c.severity, WARNING), "only the shipped corpus uses the name; no downstream profile does")
    elif c.kind == "added":
        protected = [f.member for f in c.findings
                     if _bare(f.member) != f.member.removeprefix("self.") and not f.member.endswith("__")]
        if protected and c.severity == INFO:
            move(WARNING, f"new protected members ({_names(sorted(protected))}) a subclass may already define: "
                 f"its own value replaces the base's, or the base's replaces its own")
    elif c.kind == "member" and c.severity == INFO and any(f.rule == parameter_renamed.rule_id for f in c.findings):
        move(WARNING, "a renamed parameter breaks callers that pass it by keyword")


# exceptions no code raises on purpose: a step that stops raising one of them had a bug fixed; a step
# that stops raising anything else (a check, a not-found error, a conflict) no longer refuses what it
# refused, and callers that relied on the refusal break
# (an ImportError is a name the old side did not have: a scenario reaching for it there gains it)
CRASHES = frozenset({"AttributeError", "TypeError", "NameError", "UnboundLocalError", "KeyError", "IndexError",
                     "ZeroDivisionError", "RecursionError", "ImportError", "ModuleNotFoundError"})


def _to_keywords(old: dict, new: dict) -> bool:
    """`new` passes by keyword some argument that `old` passed by position, and none the other way."""
    gained = set(new["kwargs"]) - set(old["kwargs"])
    return bool(gained) and len(new["args"]) < len(old["args"]) and set(old["kwargs"]) <= set(new["kwargs"])

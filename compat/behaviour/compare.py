"""The comparison of two traces of one cell: the first divergence, and every other one after it.

A replayed cell's trace is compared with the recorded one in a fixed order (the cell's set-up,
the scenario's own exception, the dispatches to overridable members, the step results, the
final state, then the warnings, identities and attributes), and each divergence becomes a
finding of one of the rules of :mod:`compat.behaviour.replay_rules`. Nothing here runs a cell:
the replay (:mod:`compat.behaviour.replay`), the pytest plugin, the rule fixtures and the
ecosystem's downstream replay all compare traces they got elsewhere.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from typing import Any

from compat.behaviour.cells import cell_label
from compat.behaviour.replay_rules import (RULE_ATTRIBUTES, RULE_CELL, RULE_DISPATCH, RULE_EXCEPTION,
                                           RULE_FORWARDED, RULE_IMPORT, RULE_RESULT, RULE_STATE, RULE_WARNING)
from compat.behaviour.scenarios import ATTRIBUTES_AT_START
from compat.model.findings import BREAKING, WARNING, Finding
from compat.model.trace import TRUNCATED, dispatch_key, trace_at
from compat.rules.registry import Rule


_MISSING_NAME = re.compile(r"cannot import name '([\w.]+)' from '([\w.]+)'")


def missing_import(text: str | None) -> tuple[str, str] | None:
    """(name, module) when `text` is the ImportError of a name a module no longer exports."""
    m = _MISSING_NAME.search(text or "")
    return (m.group(1), m.group(2)) if m else None


def import_finding(error: dict[str, Any], cell: dict[str, Any] | None = None) -> Finding:
    """The finding for a target that no longer imports (``error`` as
    :func:`compat.behaviour.replay.import_failure` gives it).
    A name its module no longer exports is named in the details, so that the finding joins the
    cause of that export's removal."""
    missing = missing_import(error["exception"])
    where = (error["module"] + (f" (line {error['line']})" if error.get("line") else "") + ": ") if error.get("module") else ""
    return RULE_IMPORT.finding(
        "<import>", f"the target no longer imports on the new side: {where}{error['exception']}",
        old="imports", new=f"{where}{error['exception']}",
        details={"exception": error["exception"], "module": error.get("module"), "line": error.get("line"),
                 **({"missing_name": missing[0], "from_module": missing[1]} if missing else {}),
                 **({"cell": dict(cell)} if cell else {})})


def _short(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _finding(rule: Rule, cell: dict, message: str, old: str | None, new: str | None, audience: str | None = None,
             severity: str | None = None, **details: Any) -> Finding:
    """A finding of a behaviour rule on one cell; severity and audience are the rule's unless given."""
    return rule.finding(cell_label(cell), message, severity=severity, audience=audience, old=old, new=new,
                        details={"cell": dict(cell), **details})


def same(o: Any, n: Any) -> bool:
    """Equality of two normalized JSON values, where a mapping key present on one side only
    with a null value (an optional field a newer serializer adds) does not count."""
    if isinstance(o, dict) and isinstance(n, dict):
        for k in set(o) | set(n):
            if k not in o:
                if n[k] is not None:
                    return False
            elif k not in n:
                if o[k] is not None:
                    return False
            elif not same(o[k], n[k]):
                return False
        return True
    if isinstance(o, list) and isinstance(n, list):
        return len(o) == len(n) and all(same(a, b) for a, b in zip(o, n))
    if isinstance(o, str) and isinstance(n, str) and (o.endswith(TRUNCATED) or n.endswith(TRUNCATED)):
        return _same_truncated(o, n)
    return o == n


def _same_truncated(o: str, n: str) -> bool:
    """Baselines recorded before long strings were cut after normalizing cut them before their
    temp paths became `<tmp>`, where the temp dir's length said: two cut strings agree when they
    agree as far as both are known."""
    ko, kn = o.removesuffix(TRUNCATED), n.removesuffix(TRUNCATED)
    k = min(len(ko), len(kn)) if o.endswith(TRUNCATED) and n.endswith(TRUNCATED) else \
        len(ko) if o.endswith(TRUNCATED) else len(kn)
    # a cut inside a temp path leaves that word unnormalized: compare up to the word before it
    b = min(ko[:k].rfind(" "), kn[:k].rfind(" "))
    return ko[:b] == kn[:b] if b >= 0 else True


def _is_exc(v: Any) -> bool:
    return isinstance(v, dict) and "__exception__" in v


def divergences(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    """Every divergence of a cell, the first (:func:`compare`'s) first: a cell whose dispatches
    change in two places (1.11.5's `wipe_assets` forwarding `report_dagster_event` other
    arguments, behind a lost dispatch) shows both causes. A cell that no longer runs, or whose
    scenario raises another exception, has nothing further to compare."""
    return [_with_member(f, old) for f in _divergences(old, new)]


def _with_member(f: Finding, old: dict) -> Finding:
    """A step's finding names the instance member the step calls when its label does not (the
    worker records them under `meta.calls`): titles then say `get_required_daemon_types`, not
    the step id `required`."""
    step = (f.details or {}).get("step")
    called = ((old.get("meta") or {}).get("calls") or {}).get(step) if step else None
    if isinstance(called, str):
        f.details["called"] = called
    return f


def _divergences(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    first = compare(old, new)
    if first is None or first.rule in (RULE_IMPORT.id, RULE_CELL.id) or (
            first.rule == RULE_EXCEPTION.id and first.details.get("step") is None):
        return [first] if first is not None else []
    version = min(old.get("schema_version", 1), new.get("schema_version", 1))
    old, new = trace_at(old, version), trace_at(new, version)
    more = _dispatch_divergences(old, new)
    for f in (_compare_forwarded(old, new), _compare_result(old, new), _compare_identity(old, new),
              _compare_warnings(old, new), _compare_attributes(old, new)):
        if f is not None and f.severity == BREAKING:
            more.append(f)
    if not same(old.get("state"), new.get("state")):
        more.append(_state_finding(old, new))
    out, keys = [first], {_divergence_key(first)}
    for f in more:
        if _divergence_key(f) not in keys:
            keys.add(_divergence_key(f))
            out.append(f)
    return out


def _divergence_key(f: Finding) -> tuple:
    d = f.details or {}
    return (f.rule, d.get("change"), d.get("member_name"), d.get("step"), d.get("path"))


def compare(old: dict[str, Any], new: dict[str, Any]) -> Finding | None:
    """The first divergence between two traces of the same cell, or None. Two traces of other
    versions are compared at the older one's fidelity (:func:`compat.model.trace.trace_at`)."""
    version = min(old.get("schema_version", 1), new.get("schema_version", 1))
    old, new = trace_at(old, version), trace_at(new, version)
    cell = old["cell"]
    label = cell_label(cell)
    if new.get("import_error") and not old.get("import_error"):
        return import_finding(new["import_error"], cell)
    if new.get("cell_error") and not old.get("cell_error"):
        return _finding(RULE_CELL, cell, f"{label}: the cell no longer runs: {new['cell_error']}",
                        "cell ran", new["cell_error"])
    if old.get("cell_error") != new.get("cell_error"):
        return _finding(RULE_CELL, cell, f"{label}: the cell's set-up outcome changed",
                        old.get("cell_error") or "cell ran", new.get("cell_error") or "cell ran")
    if old.get("exception") != new.get("exception"):
        return _finding(RULE_EXCEPTION, cell, f"{label}: the scenario's exception changed",
                        _short(old.get("exception")), _short(new.get("exception")), step=None,
                        old_type=_scenario_exc_type(old.get("exception")),
                        new_type=_scenario_exc_type(new.get("exception")))
    f = _compare_dispatch(old, new) or _compare_forwarded(old, new)
    if f is not None:
        return f
    f = _compare_result(old, new)
    if f is not None and f.severity == BREAKING:
        return f
    f = _compare_identity(old, new) or f
    if f is not None and f.severity == BREAKING:
        return f
    w = _compare_warnings(old, new)
    if w is not None and w.severity == BREAKING:
        return w
    a = _compare_attributes(old, new)
    if a is not None:
        return a
    f = f or w
    if not same(old.get("state"), new.get("state")):
        return _state_finding(old, new)
    return f  # None, or a message-only exception change (a warning)


def _state_finding(old: dict, new: dict) -> Finding:
    """The first place the final storage states differ; `gained` when every difference is
    something the new state holds in addition (a key or tag the old one lacked), nothing changed."""
    path, o, n = _first_diff(old.get("state"), new.get("state"), "state")
    return _finding(RULE_STATE, old["cell"], f"{cell_label(old['cell'])}: final storage state differs at {path}",
                    _short(o), _short(n), path=path, gained=_only_gains(old.get("state"), new.get("state")),
                    reordered=_only_gains(old.get("state"), new.get("state"), reordered=True))


def _only_gains(o: Any, n: Any, reordered: bool = False) -> bool:
    """`n` is `o` with mappings that hold more keys, and nothing else differs. ``reordered``: a
    list may also hold the same items, as often, in another order (a dagster that writes the
    planned events of a run in another order)."""
    if isinstance(o, dict) and isinstance(n, dict):
        return all(k in n and (same(v, n[k]) or _only_gains(v, n[k], reordered)) for k, v in o.items() if v is not None)
    if isinstance(o, list) and isinstance(n, list) and len(o) == len(n):
        if all(same(a, b) or _only_gains(a, b, reordered) for a, b in zip(o, n)):
            return True
        canon = lambda items: sorted(json.dumps(x, sort_keys=True) for x in items)  # noqa: E731
        return reordered and canon(o) == canon(n)
    return False


def _compare_result(old: dict, new: dict) -> Finding | None:
    cell = old["cell"]
    label = cell_label(cell)
    o_res, n_res = old.get("result"), new.get("result")
    if same(o_res, n_res):
        return None
    if isinstance(o_res, dict) and isinstance(n_res, dict):
        order = list(old.get("meta", {}).get("steps") or []) + sorted(set(o_res) | set(n_res))
        seen = set()
        warning = None  # the first message-only exception change; a later real change wins
        for step in order:
            if step in seen:
                continue
            seen.add(step)
            missing = object()
            o, n = o_res.get(step, missing), n_res.get(step, missing)
            if o is not missing and n is not missing and same(o, n):
                continue
            o_text = "<missing step>" if o is missing else _short(o)
            n_text = "<missing step>" if n is missing else _short(n)
            if (o is not missing and _is_exc(o)) or (n is not missing and _is_exc(n)):
                what = _describe_exc_change(o, n, missing)
                # the exception types on both sides (None: the step returned), for the severity policy
                types = {"old_type": _exc_type(o), "new_type": _exc_type(n)}
                if _is_exc(o) and _is_exc(n) and o["__exception__"]["type"] == n["__exception__"]["type"]:
                    # same exception type, reworded message: callers catching by type see no change
                    warning = warning or _finding(RULE_EXCEPTION, cell, f"{label}: step {step!r} {what}", o_text,
                                                  n_text, severity=WARNING, step=step, **types)
                    continue
                return _finding(RULE_EXCEPTION, cell, f"{label}: step {step!r} {what}", o_text, n_text, step=step,
                                **types)
            path, po, pn = _first_diff(o, n, step)
            return _finding(RULE_RESULT, cell, f"{label}: step {step!r} returned a different value (at {path})",
                            o_text, n_text, step=step, path=path)
        return warning
    path, po, pn = _first_diff(o_res, n_res, "result")
    return _finding(RULE_RESULT, cell, f"{label}: the scenario result differs at {path}", _short(po), _short(pn),
                    path=path)


def _scenario_exc_type(e: Any) -> str | None:
    """The type of a scenario's own exception: a mapping in version-2 traces, "Type: message" before."""
    if isinstance(e, dict):
        return e.get("type")
    return str(e).split(":", 1)[0].strip() or None if e else None


def _exc_type(v: Any) -> str | None:
    return v["__exception__"]["type"] if _is_exc(v) else None


def _step_order(old: dict, keys: Iterable[str]) -> list[str]:
    """Steps in the order the scenario ran them, then any other key by name."""
    steps = list(old.get("meta", {}).get("steps") or [])
    return list(dict.fromkeys(steps + sorted(keys)))


def _identity_text(entry: dict | None) -> str:
    if not entry:
        return "a new object"
    if "same_as" in entry:
        return f"the same object as step {entry['same_as']!r}"
    return "an object the instance holds (not a copy)"


def _compare_identity(old: dict, new: dict) -> Finding | None:
    """A step whose value is now (or no longer) an object an earlier step returned or the
    instance holds: a caller that mutates what it got now changes (or no longer changes) that."""
    o_id, n_id = old.get("identity") or {}, new.get("identity") or {}
    if o_id == n_id:
        return None
    cell = old["cell"]
    for step in _step_order(old, set(o_id) | set(n_id)):
        o, n = o_id.get(step), n_id.get(step)
        if o == n:
            continue
        o_text, n_text = _identity_text(o), _identity_text(n)
        return _finding(RULE_RESULT, cell,
                        f"{cell_label(cell)}: step {step!r} returns {n_text} where it returned {o_text}; a caller "
                        f"that mutates the value now sees another effect", o_text, n_text, step=step,
                        path=f"{step}.<identity>")
    return None


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _forwarded_text(call: list) -> str:
    role, method, args, kwargs = call
    parts = [json.dumps(a, sort_keys=True) for a in args] + [f"{k}={json.dumps(v, sort_keys=True)}"
                                                               for k, v in sorted(kwargs.items())]
    return f"{role}.{method}({', '.join(parts)})"


def _compare_forwarded(old: dict, new: dict) -> Finding | None:
    """The first call forwarded to a custom storage that differs (a field or keyword left at None
    on one side only is the same call: a newer filter's optional field)."""
    o_calls, n_calls = old.get("forwarded") or [], new.get("forwarded") or []
    o_keys = [json.dumps(_without_nulls(c), sort_keys=True) for c in o_calls]
    n_keys = [json.dumps(_without_nulls(c), sort_keys=True) for c in n_calls]
    if o_keys == n_keys:
        return None
    cell = old["cell"]
    label = cell_label(cell)
    o_count = Counter(f"{c[0]}.{c[1]}" for c in o_calls)
    n_count = Counter(f"{c[0]}.{c[1]}" for c in n_calls)
    sm = difflib.SequenceMatcher(None, o_keys, n_keys, autojunk=False)
    tag, i1, i2, j1, j2 = next(op for op in sm.get_opcodes() if op[0] != "equal")
    o_call = o_calls[i1] if i1 < i2 else None
    n_call = n_calls[j1] if j1 < j2 else None
    o_name = f"{o_call[0]}.{o_call[1]}" if o_call else None
    n_name = f"{n_call[0]}.{n_call[1]}" if n_call else None
    if o_call and n_call and o_name == n_name:
        kind, name = "arguments", o_name
        msg = (f"{label}: the instance calls `{name}` with other arguments: {_forwarded_text(n_call)} instead of "
               f"{_forwarded_text(o_call)}; a custom storage gets another query")
    elif o_call and n_count[o_name] < o_count[o_name]:
        kind, name = "missing", o_name
        msg = f"{label}: the instance no longer calls `{name}` here; a custom storage is no longer asked"
    elif n_call and n_count[n_name] > o_count[n_name]:
        kind, name = "added", n_name
        msg = f"{label}: the instance now calls `{name}` here where it did not; a custom storage must answer it"
    else:
        kind, name = "reordered", o_name or n_name
        msg = f"{label}: the instance calls its storages in another order at `{name}`"
    lo, ln = max(0, i1 - 2), max(0, j1 - 2)
    old_ctx = "\n".join(("> " if lo + k == i1 else "  ") + _forwarded_text(c) for k, c in enumerate(o_calls[lo:i2 + 2]))
    new_ctx = "\n".join(("> " if ln + k == j1 else "  ") + _forwarded_text(c) for k, c in enumerate(n_calls[ln:j2 + 2]))
    # a call made fewer times is still made: the storage is asked, only less often
    fewer = {"still_called": True} if kind == "missing" and n_count[name] > 0 else {}
    return _finding(RULE_FORWARDED, cell, msg, old_ctx, new_ctx, change=kind, member_name=name,
                    old_index=i1, new_index=j1, **fewer)


def _attribute_steps(trace: dict) -> dict[str, list[tuple[str, str]]]:
    """Attribute -> the (step, "added" or "removed") that changed it, in step order."""
    out: dict[str, list[tuple[str, str]]] = {}
    changes = trace.get("attributes") or {}
    for step in _step_order(trace, set(changes) - {ATTRIBUTES_AT_START}):
        for what in ("added", "removed"):
            for name in (changes.get(step) or {}).get(what) or []:
                out.setdefault(name, []).append((step, what))
    return out


def _compare_attributes(old: dict, new: dict) -> Finding | None:
    """The first attribute the old base had that is set or deleted by other steps than before
    (see RULE_ATTRIBUTES). Which attributes each side has at the start is the surface's and the
    profiles' to compare (private names differ between releases); here only when they change."""
    if (old.get("attributes") or {}) == (new.get("attributes") or {}):
        return None
    o_at, n_at = _attribute_steps(old), _attribute_steps(new)
    o_start = set(((old.get("attributes") or {}).get(ATTRIBUTES_AT_START) or {}).get("present") or [])
    cell = old["cell"]
    for name in sorted(set(o_at) | set(n_at)):
        o, n = o_at.get(name, []), n_at.get(name, [])
        if o == n or (name not in o_start and not o):
            continue  # the same, or an attribute the old base never had: no subclass read it

        def where(changes: list[tuple[str, str]]) -> str:
            return ", ".join(f"{what} by step {step!r}" for step, what in changes) or "not changed by any step"

        return _finding(RULE_ATTRIBUTES, cell, f"{cell_label(cell)}: `self.{name}` is {where(n)}; it was {where(o)}",
                        where(o), where(n), attribute=name, step=(n or o)[0][0])
    return None


def _compare_warnings(old: dict, new: dict) -> Finding | None:
    """The first step whose warnings differ: a new category is breaking (an error under
    ``-W error``), a dropped or reworded warning only a warning."""
    o_w, n_w = old.get("warnings") or {}, new.get("warnings") or {}
    if o_w == n_w:
        return None
    cell = old["cell"]
    label = cell_label(cell)
    softer = None
    for step in _step_order(old, set(o_w) | set(n_w)):
        o, n = o_w.get(step) or [], n_w.get(step) or []
        if o == n:
            continue
        gained = Counter(c for c, _ in n) - Counter(c for c, _ in o)
        o_text, n_text = _short(o) if o else "no warning", _short(n) if n else "no warning"
        if gained:
            first = next(w for w in n if w[0] in gained)
            return _finding(RULE_WARNING, cell, f"{label}: step {step!r} now emits {first[0]}: {first[1]} "
                            f"(an error under -W error)", o_text, n_text, step=step, category=first[0])
        lost = Counter(c for c, _ in o) - Counter(c for c, _ in n)
        what = f"no longer emits {sorted(lost)[0]}" if lost else "emits its warnings with other messages"
        softer = softer or _finding(RULE_WARNING, cell, f"{label}: step {step!r} {what}", o_text, n_text,
                                    severity=WARNING, step=step)
    return softer


def _describe_exc_change(o: Any, n: Any, missing: object) -> str:
    if _is_exc(o) and _is_exc(n):
        ot, nt = o["__exception__"]["type"], n["__exception__"]["type"]
        return f"raises {nt} instead of {ot}" if ot != nt else f"raises {nt} with a different message"
    if _is_exc(o):
        return f"no longer raises {o['__exception__']['type']}"
    return f"now raises {n['__exception__']['type']}"


def _first_diff(o: Any, n: Any, path: str) -> tuple[str, Any, Any]:
    """The first (in canonical order) path where two JSON values differ."""
    if isinstance(o, dict) and isinstance(n, dict):
        for k in sorted(set(o) | set(n)):
            if k not in o:
                if n[k] is None:
                    continue
                return f"{path}.{k}", "<absent>", n[k]
            if k not in n:
                if o[k] is None:
                    continue
                return f"{path}.{k}", o[k], "<absent>"
            if not same(o[k], n[k]):
                return _first_diff(o[k], n[k], f"{path}.{k}")
    if isinstance(o, list) and isinstance(n, list):
        for i, (a, b) in enumerate(zip(o, n)):
            if not same(a, b):
                return _first_diff(a, b, f"{path}[{i}]")
        if len(o) != len(n):
            return f"{path}[len]", len(o), len(n)
    return path, o, n


def _calls(kind: str, old: dict | None, new: dict | None) -> dict[str, Any]:
    """The two argument shapes of a dispatch whose arguments changed (positional types, keyword
    names), so that the severity policy can tell keyword-to-positional from the reverse."""
    if kind != "arguments" or old is None or new is None:
        return {}
    shape = lambda ev: {"args": list(ev.get("args", [])), "kwargs": dict(sorted(ev.get("kwargs", {}).items()))}  # noqa: E731
    return {"old_call": shape(old), "new_call": shape(new)}


def _render_event(ev: dict) -> str:
    count = f" x{ev['n']}" if ev.get("n", 1) > 1 else ""
    return f"{dispatch_key(ev)}  <- {ev.get('caller_class', '?')}.{ev.get('caller', '?')} [{ev.get('via', '?')}]{count}"


def _comparable(events: list[dict], members: set[str] | None) -> tuple[list[dict], list[str]]:
    """Dispatch events to members both sides can override, consecutive duplicates collapsed,
    and each kept event's :func:`dispatch_key` (computed once: a full replay compares some
    400,000 events)."""
    out: list[dict] = []
    keys: list[str] = []
    last = None
    for ev in events:
        if members is not None and ev["member"] not in members:
            continue
        key = dispatch_key(ev)
        if key == last:
            continue
        last = key
        out.append(ev)
        keys.append(key)
    return out, keys


def _compare_dispatch(old: dict, new: dict) -> Finding | None:
    found = _dispatch_divergences(old, new)
    return found[0] if found else None


def _dispatch_divergences(old: dict, new: dict) -> list[Finding]:
    """Every place the dispatches of a cell diverge, in order, one finding per (change, member)."""
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    cell = old["cell"]
    label = cell_label(cell)
    o_members = set(old.get("meta", {}).get("spied_members") or [])
    n_members = set(new.get("meta", {}).get("spied_members") or [])
    if not o_members and not n_members:
        return []
    common = o_members & n_members
    o_ev, o_keys = _comparable(old.get("dispatch") or [], common)
    n_ev, n_keys = _comparable(new.get("dispatch") or [], common)
    if o_keys == n_keys:
        return []
    o_count, n_count = Counter(e["member"] for e in o_ev), Counter(e["member"] for e in n_ev)
    missing = sorted(m for m in o_count if n_count[m] < o_count[m] and n_count[m] == 0)
    added = sorted(m for m in n_count if o_count[m] == 0)
    sm = difflib.SequenceMatcher(None, o_keys, n_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        first_old = o_ev[i1] if i1 < i2 else None
        first_new = n_ev[j1] if j1 < j2 else None
        if first_old is not None and first_new is not None and first_old["member"] == first_new["member"]:
            kind = "arguments"
        elif first_old is not None and n_count[first_old["member"]] < o_count[first_old["member"]]:
            kind = "missing"
        elif first_new is not None and n_count[first_new["member"]] > o_count[first_new["member"]]:
            kind = "added"
        else:
            kind = "reordered"
        if kind == "arguments":
            ev = first_old
            msg = (f"{label}: `{ev['member']}` is dispatched from `{first_new.get('caller_class')}."
                   f"{first_new.get('caller')}` with different arguments: {dispatch_key(first_new)} instead of "
                   f"{dispatch_key(ev)}; an override whose signature does not accept the new call breaks")
        elif kind == "missing":
            ev = first_old
            msg = (f"{label}: `{ev['member']}` is no longer dispatched through the instance from "
                   f"`{ev.get('caller_class')}.{ev.get('caller')}`; a subclass override of "
                   f"`{ev['member']}` is silently ignored here")
        elif kind == "added":
            ev = first_new
            msg = (f"{label}: the base now dispatches to `{ev['member']}` from `{ev.get('caller_class')}."
                   f"{ev.get('caller')}` where it did not before; a subclass override of it now runs here")
        else:
            ev = first_old or first_new
            msg = (f"{label}: dispatches to overridable members are reordered at `{ev['member']}`; "
                   f"overrides run in a different order")
        others = [m for m in missing if m != ev["member"]]
        if others:
            msg += f" (also never dispatched any more: {', '.join(others)})"
        lo, ln = max(0, i1 - 3), max(0, j1 - 3)
        old_ctx = "\n".join(("> " if lo + k == i1 else "  ") + _render_event(e) for k, e in enumerate(o_ev[lo:i2 + 3]))
        new_ctx = "\n".join(("> " if ln + k == j1 else "  ") + _render_event(e) for k, e in enumerate(n_ev[ln:j2 + 3]))
        if (kind, ev["member"]) in seen:
            continue
        seen.add((kind, ev["member"]))
        out.append(_finding(RULE_DISPATCH, cell, msg, old_ctx, new_ctx, change=kind,
                            member_name=ev["member"], old_index=i1, new_index=j1, members_missing=missing,
                            members_added=added, caller=ev.get("caller"), caller_class=ev.get("caller_class"),
                            caller_via=ev.get("via"), **_calls(kind, first_old, first_new)))
    return out

"""Render findings for people and for CI: text, markdown, json, junit, github.

Every format is deterministic (findings sorted, no timestamps, no machine paths), so a report
can be committed, diffed and compared byte for byte.

- ``text``: the terminal report, most severe first.
- ``markdown``: what a reviewer reads in a pull request: summary tables by severity and by
  rule, then per member the old and new signature side by side with the changed parameters
  marked, and info-level findings folded into a collapsible section.
- ``json``: ``{"findings": [...], "summary": {...}}`` in canonical JSON; round-trips through
  :func:`parse_json`.
- ``junit``: one testcase per member; a failure when one of its findings is at or above the
  ``fail_on`` threshold.
- ``github``: workflow commands (``::error file=...,line=...::message``) that annotate the diff;
  info findings are left out (GitHub shows only a few annotations per step) and counted in the
  closing summary line.
"""

from __future__ import annotations

import difflib
import html
import re
import xml.etree.ElementTree as ET
from collections import OrderedDict
from typing import Any, Iterable

from compat import jsonio
from compat.errors import CompatError
from compat.findings import BREAKING, INFO, SEVERITIES, SEVERITY_RANK, WARNING, Finding, summary

FORMATS = ("text", "markdown", "json", "junit", "github")
FAIL_ON = ("breaking", "warning", "never")
REPORT_SCHEMA = "compat.report"
REPORT_VERSION = 1


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (*f.sort_key(), f.message, f.old_location or "", f.new_location or ""))


def _at_or_above(f: Finding, fail_on: str) -> bool:
    if fail_on == "never":
        return False
    return SEVERITY_RANK[f.severity] <= SEVERITY_RANK[fail_on]


def render(
    findings: Iterable[Finding],
    fmt: str,
    *,
    title: str = "compat",
    old_label: str = "old",
    new_label: str = "new",
    fail_on: str = "breaking",
) -> str:
    """The findings rendered in ``fmt`` (text, markdown, json, junit or github)."""
    if fmt not in FORMATS:
        raise CompatError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fail_on not in FAIL_ON:
        raise CompatError(f"unknown --fail-on {fail_on!r} (choose from {', '.join(FAIL_ON)})")
    items = _ordered(findings)
    renderer = {
        "text": render_text,
        "markdown": render_markdown,
        "json": render_json,
        "junit": render_junit,
        "github": render_github,
    }[fmt]
    return renderer(items, title=title, old_label=old_label, new_label=new_label, fail_on=fail_on)


# --------------------------------------------------------------------------- shared


def _counts_line(items: list[Finding]) -> str:
    s = summary(items)["by_severity"]
    return f"{len(items)} finding{'s' if len(items) != 1 else ''}: " + ", ".join(f"{s[k]} {k}" for k in SEVERITIES)


def _verdict(items: list[Finding], fail_on: str) -> str:
    if fail_on == "never":
        return "report only (--fail-on never)"
    failing = [f for f in items if _at_or_above(f, fail_on)]
    return "incompatible" if failing else "compatible"


def _by_member(items: list[Finding]) -> "OrderedDict[str, list[Finding]]":
    """Members in order of their most severe finding, then name."""
    groups: dict[str, list[Finding]] = {}
    for f in items:
        groups.setdefault(f.member, []).append(f)
    order = sorted(groups, key=lambda m: (min(SEVERITY_RANK[f.severity] for f in groups[m]), m))
    return OrderedDict((m, groups[m]) for m in order)


def _cause(f: Finding) -> tuple:
    """What a behaviour finding says apart from which cell it was seen in: the same changed
    dispatch or step in many cells is one cause for a reviewer."""
    d = f.details or {}
    cell = d.get("cell") or {}
    if f.rule == "behaviour-dispatch-changed":
        return (f.rule, f.severity, d.get("change"), d.get("member_name"), tuple(d.get("members_missing") or ()),
                tuple(d.get("members_added") or ()))
    label = f"{cell.get('subclass')}/{cell.get('scenario')}/{cell.get('storage')}: "
    message = f.message[len(label):] if f.message.startswith(label) else f.message
    return (f.rule, f.severity, cell.get("scenario"), message, f.old, f.new)


def _by_cause(items: list[Finding]) -> "OrderedDict[tuple, list[Finding]]":
    groups: dict[tuple, list[Finding]] = {}
    for f in items:
        groups.setdefault(_cause(f), []).append(f)
    order = sorted(groups, key=lambda k: (SEVERITY_RANK[k[1]], -len(groups[k]), groups[k][0].member))
    return OrderedDict((k, groups[k]) for k in order)


def _location(f: Finding) -> str | None:
    return f.new_location or f.old_location


# --------------------------------------------------------------------------- text


def render_text(items: list[Finding], *, title: str, old_label: str, new_label: str, fail_on: str) -> str:
    """Plain text for a terminal: behaviour differences once per cause (with the cells that
    show it), every other finding once, multi-line old/new text indented under it."""
    lines = [f"{title}", f"{old_label} -> {new_label}: {_counts_line(items)} ({_verdict(items, fail_on)})"]
    for severity in SEVERITIES:
        group = [f for f in items if f.severity == severity]
        if not group:
            continue
        lines.append("")
        lines.append(f"{severity.upper()} ({len(group)})")
        behaviour = [f for f in group if f.source == "behaviour"]
        for cause in _by_cause(behaviour).values():
            first = cause[0]
            cells = sorted(f.member for f in cause)
            lines.append(f"  [{first.rule}] in {len(cells)} cell{'s' if len(cells) != 1 else ''}: {first.message}  ({first.audience})")
            lines += _text_old_new(first)
            shown = ", ".join(cells[:6]) + (f", ... and {len(cells) - 6} more" if len(cells) > 6 else "")
            lines.append(f"      cells: {shown}")
        for f in group:
            if f.source == "behaviour":
                continue
            lines.append(f"  [{f.rule}] {f.member}: {f.message}  ({f.audience})")
            lines += _text_old_new(f)
            loc = _location(f)
            if loc:
                lines.append(f"      at {loc}")
    if items:
        # the end of a long terminal report repeats the totals, by rule, and the verdict
        counts: dict[tuple[str, str], int] = {}
        for f in items:
            counts[(f.rule, f.severity)] = counts.get((f.rule, f.severity), 0) + 1
        lines += ["", "by rule:"]
        lines += [f"  {n:>5}  {sev:<8} {rule}" for (rule, sev), n in
                  sorted(counts.items(), key=lambda kv: (SEVERITY_RANK[kv[0][1]], -kv[1], kv[0][0]))]
        lines.append(f"{old_label} -> {new_label}: {_counts_line(items)} ({_verdict(items, fail_on)})")
    return "\n".join(lines) + "\n"


def _text_old_new(f: Finding) -> list[str]:
    if (f.old is None and f.new is None) or f.old == f.new:
        return []
    out = []
    for sign, text in (("-", f.old), ("+", f.new)):
        body = (text if text is not None else "(absent)").splitlines() or [""]
        out.append(f"      {sign} {body[0]}")
        out += [f"        {ln}" for ln in body[1:]]
    return out


# --------------------------------------------------------------------------- json


def report_dict(items: list[Finding], *, title: str, old_label: str, new_label: str, fail_on: str) -> dict[str, Any]:
    data = {
        "schema": REPORT_SCHEMA,
        "schema_version": REPORT_VERSION,
        "title": title,
        "old_label": old_label,
        "new_label": new_label,
        "fail_on": fail_on,
        "findings": [f.to_dict() for f in items],
        "summary": summary(items),
    }
    data["summary"]["verdict"] = _verdict(items, fail_on)
    return data


def render_json(items: list[Finding], **kw) -> str:
    return jsonio.dumps(report_dict(items, **kw))


def parse_json(text: str) -> list[Finding]:
    """Findings back from a JSON report (the inverse of ``render(..., "json")``)."""
    import json

    data = json.loads(text)
    return [Finding.from_dict(f) for f in data["findings"]]


# --------------------------------------------------------------------------- markdown


def split_signature(text: str) -> tuple[str, list[str], str] | None:
    """``"@property def f(a, b: X[int, str]) -> R"`` -> (``"@property def f("``, params, ``") -> R"``).

    Commas inside brackets or strings do not split. None when the text is not a signature.
    """
    open_at = text.find("(")
    if open_at < 0 or "def " not in text[:open_at]:
        return None
    depth = 0
    params: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for i in range(open_at + 1, len(text)):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == quote and text[i - 1] != "\\":
                quote = None
            continue
        if ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch in "([{":
            depth += 1
            current.append(ch)
        elif ch in ")]}":
            if depth == 0 and ch == ")":
                token = "".join(current).strip()
                if token:
                    params.append(token)
                return text[: open_at + 1], params, text[i:]
            depth -= 1
            current.append(ch)
        elif ch == "," and depth == 0:
            params.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    return None


def _tidy_param(token: str) -> str:
    """``**kwargs = {}`` / ``*args = ()`` as some extractors render them -> ``**kwargs``."""
    if token.startswith("*"):
        return re.sub(r"\s*=\s*(\{\}|\(\))$", "", token)
    return token


def _split_param(token: str) -> tuple[str, str | None, str | None]:
    """``"name: Ann = default"`` -> (name, annotation, default), brackets respected."""
    depth = 0
    colon = equals = None
    for i, ch in enumerate(token):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == ":" and colon is None:
            colon = i
        elif depth == 0 and ch == "=" and equals is None and token[i - 1 : i + 1] not in ("==", "!=", "<=", ">="):
            if i + 1 < len(token) and token[i + 1] == "=":
                continue
            equals = i
    end = equals if equals is not None else len(token)
    name = token[: colon if colon is not None else end].strip()
    annotation = token[colon + 1 : end].strip() if colon is not None else None
    default = token[equals + 1 :].strip() if equals is not None else None
    return name, annotation, default


def _normalize_annotation(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        from compat.annotations import normalize
    except ImportError:  # pragma: no cover - the extractor's normalizer ships with compat
        return " ".join(text.split())
    try:
        return normalize(text)
    except Exception:
        return " ".join(text.split())


def _param_key(token: str) -> tuple:
    name, annotation, default = _split_param(token)
    return (name, _normalize_annotation(annotation), " ".join(default.split()) if default else None)


def _post_key(text: str) -> str | None:
    """The part after the parameters (``) -> Ret``), compared on the normalized return type."""
    arrow = text.find("->")
    if arrow < 0:
        return text.strip()
    return _normalize_annotation(text[arrow + 2 :].strip())


def _mark(text: str, tag: str) -> str:
    return f"<{tag}>{html.escape(text, quote=False)}</{tag}>"


def inline_diff(old: str | None, new: str | None) -> tuple[str, str]:
    """HTML for the old and new text with the changed parts marked (<del> / <ins>)."""
    if old is None or new is None:
        return (
            html.escape(old, quote=False) if old is not None else "<em>absent</em>",
            html.escape(new, quote=False) if new is not None else "<em>absent</em>",
        )
    if old == new:
        return html.escape(old, quote=False), html.escape(new, quote=False)
    a, b = split_signature(old), split_signature(new)
    if a is None or b is None:
        return _word_diff(old, new)
    (a_pre, a_params, a_post), (b_pre, b_params, b_post) = a, b
    a_params = [_tidy_param(p) for p in a_params]
    b_params = [_tidy_param(p) for p in b_params]
    left: list[str] = []
    right: list[str] = []
    # parameters compare on name, kind marker, normalized annotation and default: a change of
    # annotation spelling (Optional[X] -> X | None) is not marked
    matcher = difflib.SequenceMatcher(a=[_param_key(p) for p in a_params], b=[_param_key(p) for p in b_params], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left += [html.escape(p, quote=False) for p in a_params[i1:i2]]
            right += [html.escape(p, quote=False) for p in b_params[j1:j2]]
        else:
            left += [_mark(p, "del") for p in a_params[i1:i2]]
            right += [_mark(p, "ins") for p in b_params[j1:j2]]

    def part(x: str, y: str, tag: str) -> str:
        return html.escape(x, quote=False) if _post_key(x) == _post_key(y) else _mark(x, tag)

    old_html = part(a_pre, b_pre, "del") + ", ".join(left) + part(a_post, b_post, "del")
    new_html = part(b_pre, a_pre, "ins") + ", ".join(right) + part(b_post, a_post, "ins")
    return old_html, new_html


_WORDS = re.compile(r"(\s*->\s*|,\s*|\s+)")


def _word_diff(old: str, new: str) -> tuple[str, str]:
    """Changed words marked, for text that is not a signature (an MRO, a value, a path)."""
    a, b = _WORDS.split(old), _WORDS.split(new)
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(html.escape("".join(a[i1:i2]), quote=False))
            right.append(html.escape("".join(b[j1:j2]), quote=False))
        else:
            if i2 > i1:
                left.append(_mark("".join(a[i1:i2]), "del"))
            if j2 > j1:
                right.append(_mark("".join(b[j1:j2]), "ins"))
    return "".join(left), "".join(right)


def _cell(fragment: str) -> str:
    """A table cell holding code (already HTML-escaped, possibly with <del>/<ins> marks)."""
    return "<code>" + fragment.replace("|", "&#124;").replace("\n", " ") + "</code>"


def _md(text: str) -> str:
    """Plain text safe inside a markdown table or list item."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


_SEVERITY_MARK = {BREAKING: "breaking", WARNING: "warning", INFO: "info"}


def _member_section(member: str, group: list[Finding], old_label: str, new_label: str) -> list[str]:
    out = [f"#### `{member}`", ""]
    pairs: list[tuple[str | None, str | None]] = []
    for f in group:
        if (f.old, f.new) not in pairs and (f.old is not None or f.new is not None):
            pairs.append((f.old, f.new))
    changed = [(old, new) for old, new in pairs if old != new]
    for old, new in pairs:
        if old == new:
            out.append(f"{_cell(html.escape(old, quote=False))} (unchanged)")
            out.append("")
    if changed:
        out.append(f"| {_md(old_label)} | {_md(new_label)} |")
        out.append("|---|---|")
        for old, new in changed:
            o, n = inline_diff(old, new)
            out.append(f"| {_cell(o)} | {_cell(n)} |")
        out.append("")
    for f in group:
        loc = _location(f)
        where = f" ({_md(loc)})" if loc else ""
        out.append(f"- **{_SEVERITY_MARK[f.severity]}** `{f.rule}` · {f.audience}: {_md(f.message)}{where}")
    out.append("")
    return out


def _cause_section(group: list[Finding], old_label: str, new_label: str) -> list[str]:
    """One cause: the first cell's divergence in full, then every cell that shows it."""
    first = group[0]
    cells = sorted(f.member for f in group)
    d = first.details or {}
    if d.get("member_name"):
        what = f"`{d['member_name']}` ({d.get('change')})"
    else:
        what = f"`{(d.get('cell') or {}).get('scenario')}` step `{d.get('step') or d.get('path') or '?'}`"
    out = [f"#### `{first.rule}`: {what} in {len(cells)} cell{'s' if len(cells) != 1 else ''}", ""]
    out.append(f"- **{_SEVERITY_MARK[first.severity]}** · {first.audience}: {_md(first.message)}")
    out.append("")
    if first.old is not None or first.new is not None:
        o, n = inline_diff(first.old, first.new)
        out += [f"| {_md(old_label)} ({_md(first.member)}) | {_md(new_label)} |", "|---|---|", f"| {_cell(o)} | {_cell(n)} |", ""]
    if len(cells) > 1:
        out += ["<details>", f"<summary>all {len(cells)} cells</summary>", "", ", ".join(f"`{c}`" for c in cells), "",
                "</details>", ""]
    return out


def render_markdown(items: list[Finding], *, title: str, old_label: str, new_label: str, fail_on: str) -> str:
    s = summary(items)
    out = [f"## {_md(title)}", ""]
    out.append(f"**{_verdict(items, fail_on)}**: {_md(old_label)} → {_md(new_label)}, {_counts_line(items)}.")
    out.append("")
    out.append("| severity | findings |")
    out.append("|---|---:|")
    for sev in SEVERITIES:
        out.append(f"| {sev} | {s['by_severity'][sev]} |")
    out.append("")
    if items:
        out.append("| rule | severity | audience | findings |")
        out.append("|---|---|---|---:|")
        rows: dict[tuple[str, str], tuple[set[str], list[int]]] = {}
        for f in items:
            auds, count = rows.setdefault((f.rule, f.severity), (set(), [0]))
            auds.add(f.audience)
            count[0] += 1
        for rule, sev in sorted(rows, key=lambda k: (SEVERITY_RANK[k[1]], k[0])):
            auds, count = rows[(rule, sev)]
            out.append(f"| `{rule}` | {sev} | {', '.join(sorted(auds))} | {count[0]} |")
        out.append("")
    behaviour = [f for f in items if f.source == "behaviour" and f.severity != INFO]
    serious = [f for f in items if f.severity != INFO and f.source != "behaviour"]
    info = [f for f in items if f.severity == INFO]
    if behaviour:
        causes = _by_cause(behaviour)
        out.append(f"### Behaviour differences by cause ({len(causes)} causes in {len(behaviour)} cells)")
        out.append("")
        for group in causes.values():
            out += _cause_section(group, old_label, new_label)
    if serious:
        # one section per member (most severe first), so a member's signature is shown once
        members = _by_member(serious)
        out.append(f"### Breaking and warning findings by member ({len(members)})")
        out.append("")
        for member, group in members.items():
            out += _member_section(member, group, old_label, new_label)
    if info:
        members = _by_member(info)
        out.append("<details>")
        out.append(f"<summary>{len(info)} info finding{'s' if len(info) != 1 else ''} on {len(members)} member{'s' if len(members) != 1 else ''}</summary>")
        out.append("")
        for member, group in members.items():
            out += _member_section(member, group, old_label, new_label)
        out.append("</details>")
        out.append("")
    if not items:
        out.append("No differences found.")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- junit


def render_junit(items: list[Finding], *, title: str, old_label: str, new_label: str, fail_on: str) -> str:
    members = _by_member(items)
    suite_name = f"{title}: {old_label} -> {new_label}"
    cases: list[ET.Element] = []
    failures = 0
    for member, group in sorted(members.items()):
        case = ET.Element("testcase", {"classname": title, "name": member})
        failing = [f for f in group if _at_or_above(f, fail_on)]
        if failing:
            failures += 1
            worst = failing[0]
            more = f" (+{len(failing) - 1} more)" if len(failing) > 1 else ""
            failure = ET.SubElement(
                case, "failure", {"type": worst.severity, "message": f"[{worst.rule}] {worst.message}{more}"}
            )
            failure.text = "\n".join(_junit_lines(f) for f in failing) + "\n"
        rest = [f for f in group if f not in failing]
        if rest:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(_junit_lines(f) for f in rest) + "\n"
        cases.append(case)
    if not cases:
        cases.append(ET.Element("testcase", {"classname": title, "name": "surface"}))
    root = ET.Element("testsuites", {"name": title, "tests": str(len(cases)), "failures": str(failures), "errors": "0"})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": suite_name, "tests": str(len(cases)), "failures": str(failures), "errors": "0", "skipped": "0"},
    )
    suite.extend(cases)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_lines(f: Finding) -> str:
    parts = [f"{f.severity} [{f.rule}] ({f.audience}) {f.message}"]
    if f.old is not None:
        parts.append(f"  old: {f.old}")
    if f.new is not None:
        parts.append(f"  new: {f.new}")
    loc = _location(f)
    if loc:
        parts.append(f"  at: {loc}")
    return "\n".join(parts)


# --------------------------------------------------------------------------- github


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)$")


def render_github(items: list[Finding], *, title: str, old_label: str, new_label: str, fail_on: str) -> str:
    lines = []
    for f in items:
        if f.severity == INFO and not _at_or_above(f, fail_on):
            continue  # GitHub shows only a handful of annotations per step: keep them for problems
        if _at_or_above(f, fail_on):
            level = "error"
        else:
            level = "notice" if f.severity == INFO else "warning"
        props = []
        loc = _location(f)
        m = _LOCATION.match(loc) if loc else None
        if m:
            props.append(f"file={_gh_prop(m.group('file'))}")
            props.append(f"line={m.group('line')}")
        props.append(f"title={_gh_prop(f'{f.severity}: {f.rule} ({f.member})')}")
        message = f"{f.message} [{f.audience}]"
        if f.old != f.new:
            message += f"\nold: {f.old if f.old is not None else '(absent)'}\nnew: {f.new if f.new is not None else '(absent)'}"
        lines.append(f"::{level} {','.join(props)}::{_gh_data(message)}")
    verdict = _verdict(items, fail_on)
    level = "error" if verdict == "incompatible" else "notice"
    lines.append(f"::{level} title={_gh_prop(title)}::{_gh_data(f'{old_label} -> {new_label}: {_counts_line(items)} ({verdict})')}")
    return "\n".join(lines) + "\n"


__all__ = ["render", "FORMATS", "parse_json", "report_dict", "inline_diff", "split_signature"]

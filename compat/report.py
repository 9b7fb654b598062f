"""Render a check for people and for CI: text, markdown, json, junit, github.

Every format leads with the verdict and the causes (compat.causes): one change in the new code
each, with its location, who breaks, the evidence per layer, a reproduction and a fix hint.
Findings come after, as the evidence. Every format is deterministic (sorted, no timestamps, no
machine paths), so a report can be committed, diffed and compared byte for byte.

- ``text``: the terminal report: verdict, the causes one per line, then each cause in detail.
- ``markdown``: what a reviewer reads in a pull request; it always fits one comment
  (:data:`MARKDOWN_LIMIT` characters), cutting the least severe detail first and pointing to
  the full report when it has to cut; trace differences are fenced ``diff`` blocks.
- ``json``: ``{"causes": [...], "findings": [...], "summary": {...}}`` in canonical JSON;
  findings round-trip through :func:`parse_json`.
- ``junit``: one testcase per cause, failing when the cause is at or above ``fail_on``.
- ``github``: the verdict, then one workflow annotation per cause at its location, ten in all;
  info causes are counted only.
"""

from __future__ import annotations

import difflib
import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable, Iterable

from compat.causes import Cause, build_causes, counts, verdict, verdict_word
from compat.model import jsonio
from compat.model.errors import CompatError
from compat.model.replay import replay_line
from compat.model.text import escape_unsafe
from compat.model.findings import (
    BREAKING,
    FAIL_ON,
    INFO,
    SEVERITIES,
    SEVERITY_RANK,
    WARNING,
    Finding,
    at_or_above,
    summary,
)
from compat.catalogue import RULES

FORMATS = ("text", "markdown", "json", "junit", "github")
REPORT_SCHEMA = "compat.report"
REPORT_VERSION = 2
MARKDOWN_LIMIT = 60_000  # a pull-request comment holds 65,536 characters


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (*f.sort_key(), f.message, f.old_location or "", f.new_location or ""))


def _at_or_above(c: Cause, fail_on: str) -> bool:
    return at_or_above(c.severity, fail_on, typing=c.typing_only)


def failing_causes(causes: Iterable[Cause], fail_on: str) -> list[Cause]:
    return [c for c in causes if _at_or_above(c, fail_on)]


def render(
    findings: Iterable[Finding],
    fmt: str,
    *,
    title: str = "compat",
    old_label: str = "old",
    new_label: str = "new",
    fail_on: str = "breaking",
    causes: list[Cause] | None = None,
    full_report: str | None = None,
    limit: int = MARKDOWN_LIMIT,
    accepted: list[tuple[Finding, str]] | None = None,
    pairs: list[dict] | None = None,
    packages: list[dict] | None = None,
    replay: dict[str, Any] | None = None,
    incomplete: tuple[int, int] | None = None,
    warnings: list[str] | None = None,
) -> str:
    """The check rendered in ``fmt``. ``causes`` default to those the findings alone give (no
    surfaces: no dispatch graph); ``full_report`` is where a cut markdown report points.
    ``pairs`` (`compat ecosystem`): one row per downstream subclass and dagster base it reaches
    (package, version, subclass, base, verdict), with ``packages`` the releases read; ``replay``
    says how many behaviour cells and programs were replayed and why the others were not
    (:class:`compat.behaviour.selection.Selection`); ``incomplete``: (units run, units of the check)
    when a run stopped short, which makes the verdict `incomplete`; ``warnings``: lines about the
    inputs (a baseline edited by hand since its recording), shown under the verdict in every format."""
    if fmt not in FORMATS:
        raise CompatError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fail_on not in FAIL_ON:
        raise CompatError(f"unknown --fail-on {fail_on!r} (choose from {', '.join(FAIL_ON)})")
    items = _ordered(findings)
    if causes is None:
        causes = build_causes(items)
    view = _View(items, causes, title=title, old_label=old_label, new_label=new_label, fail_on=fail_on,
                 accepted=accepted or [], pairs=pairs, packages=packages, replay=replay, incomplete=incomplete,
                 warnings=warnings)
    if fmt == "markdown":
        return escape_unsafe(render_markdown(view, full_report=full_report, limit=limit))
    # names come from a baseline and a class under test: a bidi override or a control character
    # in one is shown escaped, never obeyed (in JSON the escape is the same string, spelt safely)
    return escape_unsafe({"text": render_text, "json": render_json, "junit": render_junit,
                          "github": render_github}[fmt](view))


class _View:
    """What every format renders: the causes, the findings, the labels and the threshold."""

    def __init__(self, items: list[Finding], causes: list[Cause], *, title: str, old_label: str, new_label: str,
                 fail_on: str, accepted: list[tuple[Finding, str]] | None = None,
                 pairs: list[dict] | None = None, packages: list[dict] | None = None,
                 replay: dict[str, Any] | None = None, incomplete: tuple[int, int] | None = None,
                 warnings: list[str] | None = None):
        self.items, self.causes = items, causes
        self.warnings = list(warnings or [])
        self.incomplete = incomplete
        self.pairs, self.packages = pairs, packages or []
        self.replay = replay
        # findings a reviewer declared intended (accepted.json), with the reason: shown, never counted
        self.accepted = sorted(accepted or [], key=lambda fr: (fr[0].rule, fr[0].member, fr[0].message))
        self.title, self.old_label, self.new_label, self.fail_on = title, old_label, new_label, fail_on

    @property
    def verdict(self) -> str:
        return verdict(self.causes, self.fail_on, accepted=len(self.accepted), incomplete=self.incomplete)

    @property
    def word(self) -> str:
        """compatible, incompatible or incomplete."""
        return verdict_word(self.causes, self.fail_on, incomplete=self.incomplete)

    def counts_line(self) -> str:
        s = summary(self.items)["by_severity"]
        n = len(self.items)
        return f"{n} finding{'s' if n != 1 else ''} ({', '.join(f'{s[k]} {k}' for k in SEVERITIES)}) in " \
               f"{len(self.causes)} cause{'s' if len(self.causes) != 1 else ''}"

    def pairs_line(self) -> str:
        """`136 pairs (3 breaking, 133 compatible): 122 subclasses in 14 packages, 41 dagster bases`."""
        rows = self.pairs or []
        by: dict[str, int] = {}
        for r in rows:
            by[r["verdict"]] = by.get(r["verdict"], 0) + 1
        order = sorted(by, key=lambda k: (SEVERITY_RANK.get(k, -1) if k != "compatible" else 9, k))
        subs = {(r["package"], r["subclass"]) for r in rows}
        line = (f"{_plural(len(rows), 'pair')} ({', '.join(f'{by[k]} {k}' for k in order) or 'none'}): "
                f"{_plural(len(subs), 'subclass')} in {_plural(len({r['package'] for r in rows}), 'package')}, "
                f"{_plural(len({r['base'] for r in rows}), 'dagster base')}")
        replayed = [r for r in rows if r.get("replayed")]
        if replayed:
            same = sum(1 for r in replayed if r["replayed"] == "identical")
            line += f"; {len(replayed)} replayed on both sides ({same} identical)"
        gone = sum(1 for p in self.packages if p.get("unavailable"))
        if gone:
            line += f"; {gone} of {_plural(len(self.packages), 'package')} listed not read"
        return line

    def open_pairs(self) -> list[dict]:
        return [r for r in self.pairs or [] if r["verdict"] != "compatible"]

    def serious(self) -> list[Cause]:
        return [c for c in self.causes if c.severity != INFO]

    def info(self) -> list[Cause]:
        return [c for c in self.causes if c.severity == INFO]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{('es' if word.endswith('s') else 's') if n != 1 else ''}"


def _affects(c: Cause, limit: int = 6) -> str:
    parts = []
    if c.downstream:
        parts.append("downstream " + "; ".join(str(d) for d in c.downstream[:limit]) + (f"; +{len(c.downstream) - limit}" if len(c.downstream) > limit else ""))
    if c.corpus:
        shown = ", ".join(c.corpus[:limit]) + (f", +{len(c.corpus) - limit}" if len(c.corpus) > limit else "")
        parts.append(f"corpus {shown}")
    if c.reached_from:
        shown = ", ".join(c.reached_from[:limit]) + (f", +{len(c.reached_from) - limit}" if len(c.reached_from) > limit else "")
        parts.append(f"callers that reach it: {shown}")
    return "; ".join(parts)


def _trace_diff(old: str | None, new: str | None) -> list[str]:
    """Two dispatch excerpts (one dispatch per line) as diff lines: dispatches compare on what
    was called and how, not on which mixin called it."""
    def lines(text: str | None) -> list[str]:
        return [ln[2:] if ln.startswith(("> ", "  ")) else ln for ln in (text or "").splitlines()]

    a, b = lines(old), lines(new)
    key = lambda ln: ln.split("  <- ", 1)[0].strip()  # noqa: E731
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, [key(x) for x in a], [key(x) for x in b],
                                                       autojunk=False).get_opcodes():
        if op == "equal":
            out += [f"  {x}" for x in b[j1:j2]]
        else:
            out += [f"- {x}" for x in a[i1:i2]]
            out += [f"+ {x}" for x in b[j1:j2]]
    return out


def _code_diff(old: str | None, new: str | None) -> list[str]:
    """Old and new code as diff lines (unchanged lines once)."""
    a = (old or "").splitlines() if old is not None else []
    b = (new or "").splitlines() if new is not None else []
    if old is None and new is None:
        return []
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out += [f"  {x}" for x in a[i1:i2]]
        else:
            out += [f"- {x}" for x in a[i1:i2]]
            out += [f"+ {x}" for x in b[j1:j2]]
    if old is None:
        out.insert(0, "- (absent)")
    if new is None:
        out.append("+ (absent)")
    return out


def _behaviour_example(c: Cause) -> Finding | None:
    ev = c.evidence().get("behaviour")
    return ev["example"] if ev else None


def _is_dispatch(f: Finding) -> bool:
    """A behaviour finding whose old and new text are dispatch excerpts (one per line)."""
    return getattr(RULES.get(f.rule), "cause", "") == "dispatch"


# --------------------------------------------------------------------------- text


def render_text(v: _View) -> str:
    """For a terminal: verdict, the causes one per line, each cause in detail, then counts."""
    lines = [v.title, v.verdict, f"{v.old_label} -> {v.new_label}"]
    if v.replay is not None:
        lines.append(replay_line(v.replay))
    lines += v.warnings
    serious = v.serious()
    if serious:
        lines.append("")
        for i, c in enumerate(serious, 1):
            typing = " (under a type checker)" if c.typing_only else ""
            lines.append(f"{i:>3}. {c.severity.upper():<8} {c.title}{typing}")
    for i, c in enumerate(serious, 1):
        lines += ["", f"{i}. [{c.severity}] {c.title}  ({c.id})"]
        if c.location:
            lines.append(f"   at {c.location}")
        lines.append(f"   evidence: {c.evidence_line()}")
        who = _affects(c)
        if who:
            lines.append(f"   who breaks: {who}")
        diff = _code_diff(c.old, c.new)
        if diff and c.old != c.new:
            lines += [f"   {ln}" for ln in diff]
        example = _behaviour_example(c)
        if example is not None and _is_dispatch(example):
            lines.append(f"   in cell {example.member}:")
            lines += [f"     {ln}" for ln in _trace_diff(example.old, example.new)]
        elif example is not None and (example.old or example.new):
            lines.append(f"   in cell {example.member}: - {example.old}  + {example.new}")
        if c.why:
            lines.append(f"   severity: {c.why}")
        if c.witness is not None:
            lines.append(f"   witness ({c.witness['proves'] or 'unproven'}): old: {c.witness['old']}")
            lines.append(f"   {'':<{len(c.witness['proves'] or 'unproven') + 11}}new: {c.witness['new']}")
        elif c.unproven:
            lines.append(f"   unproven: {c.unproven}")
        if c.fix:
            lines.append(f"   fix: {c.fix}")
        if c.reproduction:
            lines.append("   reproduce:")
            lines += [f"     {ln}" for ln in c.reproduction.splitlines()]
    if v.pairs is not None:
        lines += ["", f"pairs: {v.pairs_line()}"]
        for p in v.packages:
            if p.get("unavailable"):
                lines.append(f"  {p['package']}: unavailable: {p['unavailable']}")
                continue
            lines.append(f"  {p['package']} {p['version']} (new side: {p['new_version'] or '-'}): "
                         f"{_plural(p['subclasses'], 'subclass')}")
        width = max([len(r["subclass"]) for r in v.pairs] + [8])
        lines += [f"  {r['verdict'] + (' (typing)' if r.get('breakage') == 'typing' else ''):<19} "
                  f"{r['subclass']:<{width}}  {r['base']}  ({r['package']} {r['version']})"
                  + (f"  replayed: {r['replayed']}" if r.get("replayed") else "")
                  + (f"  {r['new_version']}: {r['followed']}" if r.get("followed") else "") for r in v.pairs]
    info = v.info()
    if info:
        lines += ["", f"info ({_plural(len(info), 'cause')}, nothing to fix unless you rely on them):"]
        lines += [f"  - {c.title} ({_plural(len(c.findings), 'finding')})" for c in info]
    if v.accepted:
        lines += ["", f"accepted ({_plural(len(v.accepted), 'finding')}, not counted; from the baseline's accepted.json):"]
        lines += [f"  - {f.rule} {f.member}: {reason}" for f, reason in v.accepted]
    if v.items:
        by_rule: dict[tuple[str, str], int] = {}
        for f in v.items:
            by_rule[(f.rule, f.severity)] = by_rule.get((f.rule, f.severity), 0) + 1
        lines += ["", f"evidence: {v.counts_line()}; by rule:"]
        lines += [f"  {n:>5}  {sev:<8} {rule}" for (rule, sev), n in
                  sorted(by_rule.items(), key=lambda kv: (SEVERITY_RANK[kv[0][1]], -kv[1], kv[0][0]))]
        lines.append(v.verdict)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- json


def report_dict(v: _View) -> dict[str, Any]:
    data = {
        "schema": REPORT_SCHEMA,
        "schema_version": REPORT_VERSION,
        "title": v.title,
        "old_label": v.old_label,
        "new_label": v.new_label,
        "fail_on": v.fail_on,
        "causes": [c.to_dict() for c in v.causes],
        "findings": [f.to_dict() for f in v.items],
        "accepted": [{**f.to_dict(), "reason": reason} for f, reason in v.accepted],
        "summary": summary(v.items),
    }
    if v.pairs is not None:
        data["pairs"] = v.pairs
        data["packages"] = v.packages
        data["summary"]["pairs"] = v.pairs_line()
    if v.replay is not None:
        data["replay"] = dict(v.replay)
    if v.warnings:
        data["warnings"] = list(v.warnings)
    if v.incomplete is not None:
        data["summary"]["units"] = {"ran": v.incomplete[0], "total": v.incomplete[1]}
    data["summary"]["verdict"] = v.word if v.fail_on != "never" or v.incomplete else "report only (--fail-on never)"
    data["summary"]["verdict_line"] = v.verdict
    data["summary"]["causes"] = {"total": len(v.causes), "by_severity": counts(v.causes)}
    return data


def render_json(v: _View) -> str:
    return jsonio.dumps(report_dict(v))


def parse_json(text: str) -> list[Finding]:
    """Findings back from a JSON report (the inverse of ``render(..., "json")``)."""
    import json

    data = json.loads(text)
    return [Finding.from_dict(f) for f in data["findings"]]


# --------------------------------------------------------------------------- markdown

def _md(text: str) -> str:
    """Plain text safe inside a markdown table or list item."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


_SEVERITY_MARK = {BREAKING: "🔴 breaking", WARNING: "🟠 warning", INFO: "⚪ info"}


def _fence(lang: str, lines: list[str]) -> list[str]:
    body = "\n".join(lines)
    ticks = "```" if "```" not in body else "````"
    return [f"{ticks}{lang}", body, ticks]


def _md_cause(i: int, c: Cause, v: _View, *, detail: bool) -> list[str]:
    """One cause: what, where, who breaks, evidence, old/new code, one trace diff, fix, repro."""
    out = [f"### {i}. {_SEVERITY_MARK[c.severity]}: {_md_inline(c.title)}", ""]
    facts = []
    if c.location:
        facts.append(f"**where** `{c.location}`")
    facts.append(f"**id** `{c.id}`")
    out += [" · ".join(facts), ""]
    who = _affects(c, limit=8)
    if who:
        out += [f"**Who breaks**: {_md_inline(who)}", ""]
    out += [f"**Evidence**: {_md_inline(c.evidence_line())}", ""]
    if detail:
        diff = _code_diff(c.old, c.new)
        if diff and c.old != c.new:
            out += [f"Code, {_md_inline(v.old_label)} (-) and {_md_inline(v.new_label)} (+):", ""]
            out += _fence("diff", diff) + [""]
        example = _behaviour_example(c)
        if example is not None and _is_dispatch(example):
            out += [f"<details><summary>dispatches in cell <code>{html.escape(example.member)}</code></summary>", ""]
            out += _fence("diff", _trace_diff(example.old, example.new)) + ["", "</details>", ""]
        elif example is not None and (example.old or example.new):
            out += [f"<details><summary>cell <code>{html.escape(example.member)}</code></summary>", ""]
            out += _fence("diff", [f"- {example.old}", f"+ {example.new}"]) + ["", "</details>", ""]
        if c.reproduction:
            out += ["<details><summary>reproduce</summary>", ""] + _fence("python", c.reproduction.splitlines())
            out += ["", "</details>", ""]
        out += _md_witness(c, v)
    if c.why:
        out += [f"**Severity**: {_md_inline(c.why)}", ""]
    if c.fix:
        out += [f"**Fix**: {_md_inline(c.fix)}", ""]
    return out


def _md_witness(c: Cause, v: _View) -> list[str]:
    """The witness, collapsed, with what it did on each side (docs/severity.md)."""
    w = c.witness
    if w is None:
        return [f"**Unproven**: {_md_inline(c.unproven)}", ""] if c.unproven else []
    verdict = f"proves: {w['proves']}" if w["proves"] else "unproven"
    out = [f"<details><summary>witness ({verdict}): {html.escape(v.old_label)}: <code>{html.escape(w['old'] or '')}"
           f"</code>; {html.escape(v.new_label)}: <code>{html.escape(w['new'] or '')}</code></summary>", ""]
    out += _fence("python", w["code"].splitlines()) + ["", "</details>", ""]
    if not w["proves"] and c.unproven:
        out += [f"**Unproven**: {_md_inline(c.unproven)}", ""]
    return out


def _md_inline(text: str) -> str:
    """Text for a markdown paragraph: HTML escaped, backticks kept."""
    return html.escape(text, quote=False).replace("\n", " ")


def render_markdown(v: _View, *, full_report: str | None = None, limit: int = MARKDOWN_LIMIT) -> str:
    """Verdict, the list of causes, each cause (most severe first), info folded, evidence counts.

    The text always fits ``limit`` characters: detail (code, trace diffs, reproductions) goes
    first from the least severe causes, then whole causes from the end, with a pointer to
    ``full_report`` when something was cut."""
    head = [f"## {_md_inline(v.title)}", "", f"**{_md_inline(v.verdict)}**", "",
            f"{_md_inline(v.old_label)} → {_md_inline(v.new_label)}", ""]
    if v.replay is not None:
        head += [_md_inline(replay_line(v.replay)), ""]
    for w in v.warnings:
        head += [f"> {_md_inline(w)}", ""]
    serious = v.serious()
    if serious:
        head += ["| # | severity | cause | where | evidence |", "|---:|---|---|---|---|"]
        for i, c in enumerate(serious, 1):
            ev = ", ".join(f"{layer} {e['count']}" for layer, e in c.evidence().items())
            down = " · **" + ", ".join(c.packages) + "**" if c.packages else ""
            # the file's name and line: the full path (the cause's own section has it) would
            # widen the table past a pull request's page and push the evidence off-screen
            where = f"`{c.location.rsplit('/', 1)[-1]}`" if c.location else ""
            head.append(f"| {i} | {c.severity} | {_md(c.title)}{_md(down)} | {where} | {_md(ev)} |")
        head.append("")
    elif not v.causes:
        head += ["No differences found.", ""]
    head += _md_pairs(v)
    tail = _md_compatible_pairs(v) + _md_info(v) + _md_accepted(v) + _md_counts(v)
    details = [True] * len(serious)
    sections = [_md_cause(i, c, v, detail=True) for i, c in enumerate(serious, 1)]

    def assemble(cut: int) -> str:
        body = [ln for sec in sections[:len(sections) - cut] for ln in sec]
        note = []
        if cut or not all(details):
            where = f" in `{full_report}`" if full_report else " (rerun with `--format json` or `--report FILE`)"
            note = [f"> Cut to fit a pull-request comment: {_plural(cut, 'cause')} omitted, "
                    f"{_plural(details.count(False) - cut, 'cause')} without code and traces; the full report is{where}.", ""]
        return "\n".join(head + note + body + tail).rstrip("\n") + "\n"

    text = assemble(0)
    # drop the detail of the least severe causes first, then whole causes from the end
    for j in reversed(range(len(serious))):
        if len(text) <= limit:
            break
        details[j] = False
        sections[j] = _md_cause(j + 1, serious[j], v, detail=False)
        text = assemble(0)
    cut = 0
    while len(text) > limit and cut < len(sections):
        cut += 1
        text = assemble(cut)
    if len(text) > limit:  # the head alone is too long: cut it too
        text = text[: limit - 200].rsplit("\n", 1)[0] + f"\n\n> Cut to fit; the full report is in `{full_report or 'the JSON report'}`.\n"
    return text


def write_report(path: str | Path, fmt: str, rendered: Callable[[str | None, int | None], str],
                 extra: str = "") -> list[Path]:
    """Write a report to ``path``; a markdown report that had to be cut to fit a pull-request
    comment gets the complete one beside it (``<name>.full.md``). ``rendered(full_report, limit)``
    renders it; ``extra`` (a section of its own, the griffe side by side) ends both."""
    path = Path(path)

    def text_of(full_report: str | None, limit: int | None) -> str:
        text = rendered(full_report, limit)
        return text.rstrip("\n") + "\n" + extra if extra else text

    written = []
    if fmt == "markdown":
        full = path.with_name(path.stem + ".full" + (path.suffix or ".md"))
        text = text_of(full.name, None)
        complete = text_of(None, 10**9)
        if complete != text:
            written.append(jsonio.write_atomic(full, complete))
        elif full.exists():
            full.unlink()  # a stale complete report of an earlier, longer run
    else:
        text = text_of(None, None)
    written.insert(0, jsonio.write_atomic(path, text))
    return written


def _short_base(target: str) -> str:
    return target.rsplit(":", 1)[-1]


def _md_pairs(v: _View) -> list[str]:
    """The releases read, and every pair that is not compatible, in the open."""
    if v.pairs is None:
        return []
    out = [f"**Downstream**: {_md_inline(v.pairs_line())}", ""]
    if v.packages:
        out += ["| package | release read | new side's release | subclasses | not compatible |",
                "|---|---|---|---:|---:|"]
        for p in v.packages:
            if p.get("unavailable"):
                continue
            bad = sum(1 for r in v.open_pairs() if r["package"] == p["package"])
            out.append(f"| {_md(p['package'])} | {_md(p['version'])} | {_md(p['new_version'] or '-')} | "
                       f"{p['subclasses']} | {bad} |")
        out.append("")
        gone = [p for p in v.packages if p.get("unavailable")]
        if gone:
            out += ["<details>", f"<summary>{_plural(len(gone), 'package')} not read</summary>", ""]
            out += [f"- {_md(p['package'])}: {_md(p['unavailable'])}" for p in gone]
            out += ["", "</details>", ""]
    replayed = [r for r in v.pairs if r.get("replayed")]
    if replayed:
        out += ["Replayed on both sides (the package's release run on each dagster, spied on its overrides): "
                + "; ".join(f"`{_md_inline(r['subclass'].rsplit('.', 1)[-1])}` as `{_md_inline(_short_base(r['base']))}`: "
                            f"{r['replayed']}" for r in replayed), ""]
    rows = v.open_pairs()
    if rows:
        followed = any(r.get("followed") for r in rows)
        out += ["| verdict | package | subclass | base | findings |" + (" its release for the new side |" if followed else ""),
                "|---|---|---|---|---:|" + ("---|" if followed else "")]
        out += [f"| {r['verdict']}{' (typing)' if r.get('breakage') == 'typing' else ''} | {_md(r['package'])} {_md(r['version'])} | `{_md(r['subclass'])}` | "
                f"`{_md(_short_base(r['base']))}` | {r['findings']} |"
                + (f" {_md(r.get('followed') or '-')} {_md(r['new_version'] or '')} |" if followed else "") for r in rows]
        out.append("")
    return out


def _md_compatible_pairs(v: _View) -> list[str]:
    """Compatible pairs folded: one line per package and base."""
    if v.pairs is None:
        return []
    ok = [r for r in v.pairs if r["verdict"] == "compatible"]
    if not ok:
        return []
    groups: dict[tuple[str, str], list[str]] = {}
    for r in ok:
        groups.setdefault((r["package"], r["base"]), []).append(r["subclass"].rsplit(".", 1)[-1])
    out = ["<details>", f"<summary>{_plural(len(ok), 'compatible pair')}</summary>", ""]
    out += [f"- {_md_inline(pkg)}: `{_md_inline(_short_base(base))}` ← {_md_inline(', '.join(sorted(subs)))}"
            for (pkg, base), subs in sorted(groups.items())]
    return out + ["", "</details>", ""]


def _md_info(v: _View) -> list[str]:
    info = v.info()
    if not info:
        return []
    out = ["<details>", f"<summary>{_plural(len(info), 'info cause')} (nothing a subclass feels unless it relies on them)</summary>", ""]
    for c in info:
        out.append(f"- {_md_inline(c.title)} ({_plural(len(c.findings), 'finding')}){' at `' + c.location + '`' if c.location else ''}")
    return out + ["", "</details>", ""]


def _md_accepted(v: _View) -> list[str]:
    if not v.accepted:
        return []
    out = ["<details>", f"<summary>{_plural(len(v.accepted), 'accepted finding')} (declared intended in accepted.json; "
           "not counted)</summary>", "", "| rule | member | reason |", "|---|---|---|"]
    out += [f"| `{f.rule}` | `{_md(f.member)}` | {_md(reason)} |" for f, reason in v.accepted]
    return out + ["", "</details>", ""]


def _md_counts(v: _View) -> list[str]:
    if not v.items:
        return []
    rows: dict[tuple[str, str], list] = {}
    for f in v.items:
        row = rows.setdefault((f.rule, f.severity), [set(), 0])
        row[0].add(f.source)
        row[1] += 1
    out = ["<details>", f"<summary>evidence counts: {_md_inline(v.counts_line())}</summary>", "",
           "| rule | severity | layer | findings |", "|---|---|---|---:|"]
    for (rule, sev), (layers, n) in sorted(rows.items(), key=lambda kv: (SEVERITY_RANK[kv[0][1]], kv[0][0])):
        out.append(f"| `{rule}` | {sev} | {', '.join(sorted(layers))} | {n} |")
    return out + ["", "</details>", ""]


# --------------------------------------------------------------------------- junit


def render_junit(v: _View) -> str:
    """One testcase per cause; its findings are the failure text (or system-out below the bar)."""
    cases: list[ET.Element] = []
    failures = 0
    for c in v.causes:
        case = ET.Element("testcase", {"classname": v.title, "name": f"{c.id}: {c.title}"})
        text = "\n".join([f"{c.severity}: {c.title}", f"at: {c.location or '?'}", f"evidence: {c.evidence_line()}",
                          f"fix: {c.fix}"] + [_junit_line(f) for f in c.findings]) + "\n"
        if _at_or_above(c, v.fail_on):
            failures += 1
            failure = ET.SubElement(case, "failure", {"type": c.severity, "message": f"[{c.id}] {c.title}"})
            failure.text = text
        else:
            ET.SubElement(case, "system-out").text = text
        cases.append(case)
    if v.incomplete is not None:  # a partial run fails its report, whatever it found
        case = ET.Element("testcase", {"classname": v.title, "name": "every unit of the check ran"})
        ET.SubElement(case, "failure", {"type": "incomplete", "message": v.verdict}).text = v.verdict + "\n"
        cases.insert(0, case)
        failures += 1
    if not cases:
        cases.append(ET.Element("testcase", {"classname": v.title, "name": "no differences"}))
    suite_name = f"{v.title}: {v.old_label} -> {v.new_label}"
    pair_cases, pair_failures = _junit_pairs(v)
    total, total_failures = len(cases) + len(pair_cases), failures + pair_failures
    root = ET.Element("testsuites", {"name": v.title, "tests": str(total), "failures": str(total_failures),
                                     "errors": "0"})
    suite = ET.SubElement(root, "testsuite", {"name": suite_name, "tests": str(len(cases)), "failures": str(failures),
                                              "errors": "0", "skipped": "0"})
    if v.replay is not None:
        props = ET.SubElement(suite, "properties")
        for key in ("cells_replayed", "cells_total", "programs_replayed", "programs_total", "reason"):
            ET.SubElement(props, "property", {"name": f"replay.{key}", "value": str(v.replay[key])})
    if v.warnings:
        props = suite.find("properties")
        props = ET.SubElement(suite, "properties") if props is None else props
        for i, w in enumerate(v.warnings):
            ET.SubElement(props, "property", {"name": f"warning.{i}", "value": w})
    suite.extend(cases)
    if v.pairs is not None:
        pairs = ET.SubElement(root, "testsuite", {"name": f"{suite_name}: downstream pairs", "tests": str(len(pair_cases)),
                                                  "failures": str(pair_failures), "errors": "0", "skipped": "0"})
        pairs.extend(pair_cases)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_pairs(v: _View) -> tuple[list[ET.Element], int]:
    """One testcase per downstream pair, failing when its verdict is at or above ``fail_on``
    (a base gone from the new side always fails)."""
    cases, failures = [], 0
    threshold = "breaking" if v.fail_on == "never" else v.fail_on
    for r in v.pairs or []:
        case = ET.Element("testcase", {"classname": f"{r['package']} {r['version']}",
                                       "name": f"{r['subclass']} <- {r['base']}"})
        failing = v.fail_on != "never" and (r["verdict"] == "base-missing" or (
            r["verdict"] in SEVERITY_RANK and at_or_above(r["verdict"], threshold, typing=r.get("breakage") == "typing")))
        text = f"{r['verdict']}: {r['findings']} finding(s); at {r['location']}\n"
        if failing:
            failures += 1
            ET.SubElement(case, "failure", {"type": r["verdict"], "message": f"{r['verdict']}: {r['subclass']}"}).text = text
        else:
            ET.SubElement(case, "system-out").text = text
        cases.append(case)
    return cases, failures


def _junit_line(f: Finding) -> str:
    parts = [f"- {f.severity} [{f.rule}] {f.member}: {f.message}"]
    loc = f.new_location or f.old_location
    if loc:
        parts.append(f"    at: {loc}")
    return "\n".join(parts)


# --------------------------------------------------------------------------- github

def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)$")


# GitHub keeps at most ten annotations of a kind per step and drops the rest unseen
GITHUB_ANNOTATIONS = 10


def render_github(v: _View) -> str:
    """The verdict first, then one annotation per breaking or warning cause at its location, most
    severe first, ten annotations in all (GitHub keeps ten per step): the verdict says how many
    causes did not fit and where they are. Info causes are counted only; the replay and the
    downstream pairs are lines of the verdict's message."""
    shown = []
    for c in v.causes:
        if c.severity == INFO and not _at_or_above(c, v.fail_on):
            continue
        shown.append(c)
    lines = []
    for c in shown[:GITHUB_ANNOTATIONS - 1]:
        level = "error" if _at_or_above(c, v.fail_on) else ("notice" if c.severity == INFO else "warning")
        props = []
        m = _LOCATION.match(c.location) if c.location else None
        if m:
            props.append(f"file={_gh_prop(m.group('file'))}")
            props.append(f"line={m.group('line')}")
        props.append(f"title={_gh_prop(f'{c.severity}: {c.title}')}")
        message = f"{c.title}\nevidence: {c.evidence_line()}"
        who = _affects(c)
        if who:
            message += f"\nwho breaks: {who}"
        if c.fix:
            message += f"\nfix: {c.fix}"
        lines.append(f"::{level} {','.join(props)}::{_gh_data(message)}")
    verdict_text = [f"{v.verdict} ({v.old_label} -> {v.new_label})"]
    left = len(shown) - len(lines)
    if left:
        verdict_text.append(f"{left} more cause{'s' if left != 1 else ''} not annotated here "
                            "(GitHub keeps ten annotations per step): every cause is in the report")
    if v.replay is not None:
        verdict_text.append(replay_line(v.replay))
    verdict_text += v.warnings
    if v.pairs is not None:
        verdict_text.append(v.pairs_line())
    level = "error" if (v.word == "incompatible" and v.fail_on != "never") or v.word == "incomplete" else "notice"
    head = f"::{level} title={_gh_prop(v.title)}::{_gh_data(chr(10).join(verdict_text))}"
    return "\n".join([head, *lines]) + "\n"


__all__ = ["render", "FORMATS", "MARKDOWN_LIMIT", "parse_json", "report_dict", "failing_causes"]

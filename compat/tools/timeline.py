"""A release history rendered: text, markdown, JSON, and a self-contained HTML timeline.

Every format renders :class:`compat.tools.history.History` data; none reads another's text.
The timeline is an inline SVG written by a jinja2 template (jinja2 is already a dependency of
dagster, escapes what it inserts, and keeps the drawing a short declarative template): one row
per cause, one column per release, a bar from the release that introduced the cause to the one
that removed it, coloured by severity, with the downstream packages it affects beside it. The
page has no scripts and loads nothing, so it opens the same anywhere and is byte-identical for
the same history.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from compat.model import jsonio
from compat.model.errors import CompatError
from compat.tools.history import History, Life

COLOURS = {"breaking": "#c62828", "warning": "#ef8f00", "info": "#8a8f98"}
ROW, TOP = 22, 110
LABEL_CHARS = 44  # a longer id is cut in the chart (the table under it and the tooltip have it whole)
CHAR = 7.3  # width of one 12px monospace character
PAGE_WIDTH = 1200  # what the chart fills: a 1280 px window less the page's margins
MAX_COLUMN = 400  # a release's column at most


def _span(life: Life, releases: list[str]) -> list[tuple[int, int]]:
    """Each interval as (first column, columns wide); a cause still present runs to the end."""
    index = {v: i for i, v in enumerate(releases)}
    return [(index[a], (index[b] if b else len(releases)) - index[a]) for a, b in life.intervals]


def _interval_text(life: Life, end: str) -> str:
    return "; ".join(f"{a} -> {b}" if b else f"{a} -> (still at {end})" for a, b in life.intervals)


def _counts(h: History) -> dict[str, int]:
    by = {"breaking": 0, "warning": 0, "info": 0}
    for life in h.lives:
        by[life.severity] += 1
    return by


_PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                           lstrip_blocks=True).from_string("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; }
p.summary { margin: 4px 0 16px; }
svg text { font-family: monospace; font-size: 12px; }
svg text.minor { font-weight: bold; }
table { border-collapse: collapse; margin-top: 24px; font-size: 13px; width: 100%; table-layout: fixed; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
col.cause { width: 24%; } col.sev { width: 8%; } col.when { width: 17%; } col.affects { width: 10%; }
col.seen { width: 9%; } col.what { width: 32%; }
.sev-breaking { color: #c62828; font-weight: bold; }
.sev-warning { color: #b86e00; font-weight: bold; }
.sev-info { color: #666; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="summary">{{ releases|length }} releases, {{ lives|length }} causes ({{ counts.breaking }} breaking,
{{ counts.warning }} warning, {{ counts.info }} info) against dagster=={{ start }};
{{ ("static and behaviour (the '%s' cells)" % cells) if behaviour else "static only" }}. Each bar runs from the release that
introduced the cause to the one that removed it; each minor release (bold) starts a darker line.</p>
<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="100%" style="max-width: {{ width }}px"
     viewBox="0 0 {{ width }} {{ height }}" role="img" aria-label="cause timeline">
<rect x="0" y="0" width="{{ width }}" height="{{ height }}" fill="#ffffff"/>
{% for v in releases %}
<line x1="{{ label + loop.index0 * column }}" y1="{{ top - 4 }}" x2="{{ label + loop.index0 * column }}"
      y2="{{ height - 6 }}" stroke="{{ '#bbbbbb' if v in minors else '#eeeeee' }}"/>
<text class="release{{ ' minor' if v in minors else '' }}" x="{{ label + loop.index0 * column + column // 2 + 3 }}" y="{{ top - 8 }}"
      transform="rotate({{ angle }} {{ label + loop.index0 * column + column // 2 + 3 }} {{ top - 8 }})">{{ v }}</text>
{% endfor %}
{% for row in rows %}
<g class="cause" data-id="{{ row.life.id }}" data-severity="{{ row.life.severity }}">
<title>{{ row.life.id }}: {{ row.life.title }} ({{ row.intervals }})</title>
<text x="6" y="{{ row.y + 15 }}" fill="{{ colours[row.life.severity] }}">{{ row.label }}</text>
{% for x, w in row.spans %}
<rect class="bar" x="{{ label + x * column + 1 }}" y="{{ row.y + 4 }}" width="{{ w * column - 2 }}"
      height="{{ row_height - 8 }}" rx="3" fill="{{ colours[row.life.severity] }}"/>
{% endfor %}
{% if row.life.packages %}
<text x="{{ label + row.end * column + 6 }}" y="{{ row.y + 15 }}" fill="#333">{{ row.life.packages|join(", ") }}</text>
{% endif %}
</g>
{% endfor %}
<g class="legend">
{% for sev, colour in colours.items() %}
<rect x="{{ 6 + loop.index0 * 110 }}" y="8" width="14" height="14" rx="3" fill="{{ colour }}"/>
<text x="{{ 26 + loop.index0 * 110 }}" y="20">{{ sev }}</text>
{% endfor %}
</g>
</svg>
<table>
<colgroup><col class="cause"><col class="sev"><col class="when"><col class="affects"><col class="seen"><col class="what"></colgroup>
<tr><th>cause</th><th>severity</th><th>introduced -&gt; removed</th><th>affects</th><th>seen by</th><th>what</th></tr>
{% for row in rows %}
<tr><td><code>{{ row.life.id }}</code></td><td class="sev-{{ row.life.severity }}">{{ row.life.severity }}</td>
<td>{{ row.intervals }}</td><td>{{ row.life.packages|join(", ") or "-" }}</td><td>{{ row.life.layers|join(", ") }}</td>
<td>{{ row.life.title }}</td></tr>
{% endfor %}
</table>
</body>
</html>
""")


def html(h: History) -> str:
    lives = h.lives
    rows = []
    for i, life in enumerate(lives):
        spans = _span(life, h.releases)
        label = life.id if len(life.id) <= LABEL_CHARS else life.id[:LABEL_CHARS - 1] + "…"
        rows.append({"life": life, "y": TOP + i * ROW, "spans": spans, "label": label,
                     "end": max(x + w for x, w in spans), "intervals": _interval_text(life, h.end)})
    # the releases share the page's width (a short range once drew every bar in a 40 px strip);
    # narrower columns for a long range (a rotated label needs ~14px), so 65 releases fit a screen
    label = int(max([len(r["label"]) for r in rows] + [20]) * CHAR) + 16
    packages = int(max([len(", ".join(life.packages)) for life in lives] + [0]) * CHAR)
    least, angle = (22, -60) if len(h.releases) <= 30 else (16, -75)
    column = max(least, min(MAX_COLUMN, (PAGE_WIDTH - label - packages - 24) // max(len(h.releases), 1)))
    width = label + len(h.releases) * column + packages + 24
    minors = {v for v in h.releases if v.count(".") == 2 and v.rsplit(".", 1)[1] == "0"}
    return _PAGE.render(title=f"{h.target}: causes from dagster {h.start} to {h.end}", releases=h.releases,
                        lives=lives, rows=rows, counts=_counts(h), start=h.start, behaviour=h.behaviour, cells=h.cells,
                        width=width, height=TOP + len(rows) * ROW + 10, label=label, column=column, top=TOP,
                        row_height=ROW, colours=COLOURS, minors=minors, angle=angle)


def markdown(h: History) -> str:
    lives = h.lives
    c = _counts(h)
    layers = f"static and behaviour (the '{h.cells}' cells)" if h.behaviour else "static only"
    lines = [f"# {h.target}: causes from dagster {h.start} to {h.end}", "",
             f"{len(h.releases)} releases, {len(lives)} causes ({c['breaking']} breaking, {c['warning']} warning, "
             f"{c['info']} info) against dagster=={h.start}; {layers}.",
             "", "| cause | severity | introduced -> removed | affects | seen by | what |", "|---|---|---|---|---|---|"]
    for life in lives:
        title = life.title.replace("|", "\\|")
        lines.append(f"| `{life.id}` | {life.severity} | {_interval_text(life, h.end)} | "
                     f"{', '.join(life.packages) or '-'} | {', '.join(life.layers)} | {title} |")
    lines += ["", "## Release by release (each against its predecessor)", ""]
    for prev, v in zip(h.releases, h.releases[1:]):
        causes = h.against_previous[v]
        lines.append(f"- **{v}** (against {prev}): " + (f"{len(causes)} causes" if causes else "no change"))
        for cause in causes:
            if cause["severity"] != "info":
                lines.append(f"  - {cause['severity']} `{cause['id']}`: {cause['title']}")
    return "\n".join(lines) + "\n"


def text(h: History) -> str:
    lives = h.lives
    c = _counts(h)
    lines = [f"{len(h.releases)} releases {h.start} -> {h.end}: {len(lives)} causes against {h.start} "
             f"({c['breaking']} breaking, {c['warning']} warning, {c['info']} info)"]
    width = min(60, max((len(life.id) for life in lives), default=0))
    for life in lives:
        affects = f"  [{', '.join(life.packages)}]" if life.packages else ""
        name = life.id if len(life.id) <= width else life.id[:width - 1] + "…"
        lines.append(f"  {life.severity:<8} {name:<{width}}  {_interval_text(life, h.end)}{affects}")
    return "\n".join(lines)


def render(h: History, fmt: str) -> str:
    if fmt == "json":
        return jsonio.dumps(h.as_dict(), 3)
    if fmt == "markdown":
        return markdown(h)
    if fmt == "text":
        return text(h)
    raise CompatError(f"unknown history format {fmt!r}")


def write_all(h: History, out: Path) -> list[Path]:
    """history.html, history.md and history.json in `out`, each written atomically."""
    if out.exists() and not out.is_dir():
        raise CompatError(f"--out {out}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return [jsonio.write_atomic(out / "history.html", html(h)),
            jsonio.write_atomic(out / "history.md", markdown(h)),
            jsonio.write_json(out / "history.json", h.as_dict(), 3)]

"""Generate docs/rules.md from the rule metadata, so documentation and code cannot drift.

    python -m compat.rules.docs            # print
    python -m compat.rules.docs --write    # rewrite docs/rules.md
    python -m compat.rules.docs --check    # exit 1 when docs/rules.md is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from compat.rules import FAMILIES, all_rules
from compat.rules.base import EXAMPLE_TARGET

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

_FAMILY_TITLES = {
    "members": "Members",
    "parameters": "Parameters",
    "annotations": "Annotations",
    "decorators": "Decorators",
    "attributes": "Attributes",
    "hooks": "Hooks (the static half of the hook contract)",
    "class": "The class, its imports and its MRO",
}

_DECISIONS = """\
## What is deliberately not reported

- **Annotation spelling.** Annotations are compared on their normalized form only:
  `Optional[X]`, `Union[X, None]` and `X | None` are the same type, as are `List[int]` and
  `list[int]`. Adding or dropping an annotation is not reported either (no runtime effect).
- **Keyword-only reordering.** Keyword-only parameters have no position; callers pass them by
  name, so reordering them is not a finding. Positional parameters that shift are
  (`parameter-reordered`).
- **Positional-only renames**, and renames of the parameters of protocol dunders such as
  `__exit__` or `__getitem__`, which the interpreter always passes positionally.
  `__init__`, `__new__`, `__init_subclass__` and `__call__` are called with keywords and are
  checked like any method.
- **A move into a new mixin** with the same signature is only `member-moved` (info), never a
  removal plus an addition. A class that moves module carries its members with it: that is
  `class-moved` alone, not one `member-moved` per member.
- **Spelling of defaults, class attribute values and decorators.** `'x'` vs `"x"`,
  `functools.lru_cache` vs `lru_cache`: compared on a normalized form.
- **A hook reference that moved into a helper** the method still reaches through `self`
  (a helper method, a property, a delegate the extractor resolved) is not lost.
  Reachability is computed through the self-call graph of the class before reporting.
- **Import paths the new snapshot never probed** get no verdict rather than a guess.
- **Incidental re-exports** (names a module merely imported from elsewhere) are reported as
  info, not as breaking: they were never the module's API.
"""


def _code(text: str) -> str:
    return "```python\n" + text.rstrip("\n") + "\n```\n"


def _example_findings(rule) -> list[str]:
    """The findings of ``rule`` on its own example, extracted and compared for real."""
    from compat.diff import compare_surfaces
    from compat.rules.base import example_files
    from compat.surface import from_sources

    old = from_sources(example_files(rule.example_old), EXAMPLE_TARGET)
    new = from_sources(example_files(rule.example_new), EXAMPLE_TARGET)
    found = compare_surfaces(old, new, rules=[rule.id])
    return [f"{f.severity} {f.rule} [{f.audience}] {f.member}: {f.message}" for f in found] or ["(no finding)"]


def _other_rules() -> list[str]:
    """The findings that do not come from comparing two surfaces: profile checks, behaviour
    replay and stored fuzz programs."""
    profile_rules = sorted(all_rules("profile"), key=lambda r: r.id)
    out = ["## Subclass profile checks\n",
           "A profile of a real subclass package (or of the corpus) checked against the new surface "
           "(`compat/profile_checks.py`; audience: subclasses).\n",
           "| id | severity | catches |", "|---|---|---|"]
    for r in profile_rules:
        out.append(f"| `{r.id}` | {r.severity} | {r.summary.replace('|', chr(92) + '|')} |")
    out.append("")
    for r in profile_rules:
        out.append(f"### `{r.id}`\n")
        out.append(" ".join(r.explanation.split()) + "\n")
        if r.severity_note:
            out.append(f"**Severity.** {r.severity_note}\n")
        out.append(f"**Fix.** {r.fix}\n")
    out += ["## Behaviour replay\n",
            "A trace recorded on the old dagster, replayed on the new one, cell by cell; one finding per "
            "divergent cell, for its first divergence (`compat/behaviour.py`).\n",
            "| id | severity | catches |", "|---|---|---|"]
    for r in sorted(all_rules("behaviour"), key=lambda r: r.id):
        text = " ".join(r.explanation.split())
        if r.severity_note:
            text += f" {r.severity_note}"
        out.append(f"| `{r.id}` | {r.severity} | {r.summary} {text} **Fix.** {r.fix} |")
    for layer, title in (("fuzz", "Fuzzing"), ("baseline", "Baseline bookkeeping"), ("griffe", "griffe, side by side")):
        out += ["", f"## {title}\n", "| id | severity | catches |", "|---|---|---|"]
        for r in all_rules(layer):
            out.append(f"| `{r.id}` | {r.severity} | {r.summary} {' '.join(r.explanation.split())} **Fix.** {r.fix} |")
    out.append("")
    return out


def render_rules_markdown() -> str:
    rules = all_rules("surface")
    out: list[str] = []
    out.append("# Rule catalogue\n")
    out.append(
        "Generated from the rule metadata in `compat/rules/` by `python -m compat.rules.docs --write`;"
        " do not edit by hand (a test checks it is up to date).\n"
    )
    out.append(
        "Every rule compares two surfaces (old and new) of the target class and reports findings "
        "with a stable id, a severity (`breaking`, `warning`, `info`) and an audience (`callers`, "
        "`subclasses` or `callers+subclasses`). Examples are toy modules: the target is "
        f"`{EXAMPLE_TARGET}`, and a line `# pkg/<file>.py` starts another file of the toy package.\n"
    )
    out.append("## Summary\n")
    out.append("| id | severity | audience | catches |")
    out.append("|---|---|---|---|")
    for r in rules:
        audience = r.audience + (" *" if r.audience_note else "")
        catches = r.summary.replace("|", "\\|")
        out.append(f"| [`{r.id}`](#{r.id}) | {r.severity} | {audience} | {catches} |")
    out.append("")
    out.append("\\* the audience depends on the member; see the rule.\n")
    for family in FAMILIES:
        members = [r for r in rules if r.family == family]
        if not members:
            continue
        out.append(f"## {_FAMILY_TITLES.get(family, family)}\n")
        for r in members:
            out.append(f"### `{r.id}`\n")
            audience = r.audience + (f" ({r.audience_note})" if r.audience_note else "")
            out.append(f"- **severity:** {r.severity}")
            out.append(f"- **audience:** {audience}\n")
            out.append(f"**What it catches.** {r.summary}\n")
            out.append(f"**Who breaks and how.** {r.explanation}\n")
            out.append(f"**Why it matters for subclasses.** {r.why_subclasses}\n")
            out.append(f"**Fix.** {r.fix}\n")
            out.append("Before:\n")
            out.append(_code(r.example_old))
            out.append("After:\n")
            out.append(_code(r.example_new))
            out.append("Reported as:\n")
            out.append("```text\n" + "\n".join(_example_findings(r)) + "\n```\n")
    out += _other_rules()
    out.append(_DECISIONS)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render_rules_markdown()
    if "--write" in args:
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(text, encoding="utf-8")
        return 0
    if "--check" in args:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH.name} is stale: run python -m compat.rules.docs --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

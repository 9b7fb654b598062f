"""Reports: every format renders deterministically; JSON round-trips; JUnit is valid XML;
markdown shows old and new signatures side by side with the changed parameters marked."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET

import pytest

from compat.static.diff import compare_surfaces
from compat.model.errors import CompatError
from compat.model.findings import Finding
from compat.report import FORMATS, parse_json, render
from compat.rules.base import EXAMPLE_TARGET, example_files
from compat.static.extract import from_sources

OLD = """
from typing import Optional

class SettingsMixin:
    pass

class Instance:
    def __init__(self, settings=None): ...

    @property
    def run_launcher(self):
        return self._run_launcher

    def launch_run(self, run_id: str, workspace=None) -> "Optional[int]":
        return self.run_launcher.launch(run_id)

    def get_runs(self, filters=None, cursor=None, limit=None): ...

    def _get_setting(self, key): ...

    def telemetry_enabled(self) -> bool: ...
"""

NEW = """
class SettingsMixin:
    def telemetry_enabled(self) -> bool: ...

class Instance(SettingsMixin):
    def __init__(self, settings=None, storage=None): ...

    @property
    def run_launcher(self):
        return self._run_launcher

    def launch_run(self, run_id: str, *, workspace=None) -> "int | None":
        return self._run_launcher.launch(run_id)

    def get_runs(self, filters=None, limit=None, *, order=None): ...
"""


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    old = from_sources(example_files(textwrap.dedent(OLD)), EXAMPLE_TARGET)
    new = from_sources(example_files(textwrap.dedent(NEW)), EXAMPLE_TARGET)
    return compare_surfaces(old, new)


def _render(findings, fmt, **kw):
    return render(findings, fmt, title="pkg.mod:Instance", old_label="v1", new_label="v2", **kw)


def test_fixture_has_every_severity(findings):
    assert {f.severity for f in findings} == {"breaking", "warning", "info"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_deterministically(findings, fmt):
    a = _render(findings, fmt)
    b = _render(list(reversed(findings)), fmt)
    assert a == b and a.endswith("\n")
    for f in findings:
        if fmt == "github" and f.severity == "info":
            continue  # counted in the summary line only
        assert f.rule in a


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_no_findings(fmt):
    text = _render([], fmt)
    assert text.strip()


def test_unknown_format_and_threshold_are_harness_errors(findings):
    with pytest.raises(CompatError):
        _render(findings, "html")
    with pytest.raises(CompatError):
        _render(findings, "text", fail_on="sometimes")


def test_json_shape_and_round_trip(findings):
    text = _render(findings, "json")
    data = json.loads(text)
    assert set(data) >= {"findings", "summary"}
    for entry in data["findings"]:
        assert {"rule", "severity", "audience", "member", "message", "old", "new"} <= set(entry)
    assert data["summary"]["total"] == len(findings)
    assert data["summary"]["by_severity"]["breaking"] == sum(f.severity == "breaking" for f in findings)
    back = parse_json(text)
    assert [f.to_dict() for f in back] == data["findings"]
    assert _render(back, "json") == text
    assert text == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"  # canonical


def _causes(findings):
    from compat.causes import build_causes

    return build_causes(findings)


def test_junit_is_valid_xml_with_one_testcase_per_cause(findings):
    root = ET.fromstring(_render(findings, "junit"))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    causes = _causes(findings)
    assert sorted(c.get("name").split(": ", 1)[0] for c in cases) == sorted(c.id for c in causes)
    failed = {c.get("name").split(": ", 1)[0] for c in cases if c.find("failure") is not None}
    assert failed == {c.id for c in causes if c.severity == "breaking"}
    assert root.get("failures") == str(len(failed))
    # each cause's testcase lists every finding attached to it
    text = "".join("".join(c.itertext()) for c in cases)
    for f in findings:
        assert f"[{f.rule}] {f.member}" in text


def test_junit_threshold(findings):
    warn = ET.fromstring(_render(findings, "junit", fail_on="warning"))
    failed = {c.get("name").split(": ", 1)[0] for c in warn.iter("testcase") if c.find("failure") is not None}
    assert failed == {c.id for c in _causes(findings) if c.severity in ("breaking", "warning")}
    never = ET.fromstring(_render(findings, "junit", fail_on="never"))
    assert never.get("failures") == "0"
    assert not list(never.iter("failure"))


def test_junit_without_findings_has_a_passing_testcase():
    root = ET.fromstring(_render([], "junit"))
    assert len(list(root.iter("testcase"))) == 1 and root.get("failures") == "0"


def test_github_annotations_verdict_first_then_one_per_cause(findings):
    lines = _render(findings, "github").splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    causes = _causes(findings)
    assert lines[0].startswith("::error title=") and "incompatible" in lines[0]
    errors = [line for line in lines[1:] if line.startswith("::error ")]
    assert len(errors) == sum(c.severity == "breaking" for c in causes)
    assert any("file=pkg/mod.py,line=" in line for line in errors)
    assert all("\n" not in line for line in lines)
    assert not any(line.startswith("::notice ") for line in lines[1:])  # info is only counted
    assert len(lines) == 1 + sum(c.severity != "info" for c in causes)


def test_github_keeps_ten_annotations_and_says_how_many_more():
    """GitHub keeps ten annotations per step: the verdict and nine causes, most severe first;
    the verdict counts the causes left to the report."""
    old_src = "class Instance:\n" + "".join(f"    def m{i}(self, a{i}): ...\n" for i in range(14))
    new_src = "class Instance:\n" + "".join(f"    def m{i}(self, b{i}): ...\n" for i in range(14))
    old = from_sources(example_files(old_src), EXAMPLE_TARGET)
    new = from_sources(example_files(new_src), EXAMPLE_TARGET)
    found = compare_surfaces(old, new)
    serious = [c for c in _causes(found) if c.severity != "info"]
    assert len(serious) > 10
    lines = _render(found, "github").splitlines()
    assert len(lines) == 10 and lines[0].startswith("::error title=")
    assert f"{len(serious) - 9} more causes not annotated here" in lines[0]
    assert all(line.startswith("::error file=") for line in lines[1:])


def test_github_escapes_newlines_and_separators():
    f = Finding(rule="r", severity="warning", audience="subclasses", member="m", message="a\nb, 100%",
                new_location="dir,x/mod.py:12")
    line = _render([f], "github").splitlines()[1]  # after the verdict
    assert line.startswith("::warning file=dir%2Cx/mod.py,line=12,title=warning%3A ")
    assert "%0A" in line and "\n" not in line and "100%25" not in line.split("::", 2)[1]


def test_markdown_leads_with_verdict_and_causes_and_folds_info(findings):
    md = _render(findings, "markdown")
    lines = md.splitlines()
    assert lines[2].startswith("**incompatible: ") and "causes" in lines[2]
    assert "| # | severity | cause | where | evidence |" in md
    assert md.index("| # | severity") < md.index("### 1. ")
    assert "```diff" in md  # old and new code as a diff block
    info_start = md.index("info cause")
    for c in _causes(findings):
        if c.severity == "info":
            assert c.title in md[info_start:].replace("&gt;", ">")
    # every finding's rule is counted as evidence
    for f in findings:
        assert f"`{f.rule}`" in md


def test_markdown_code_diff_has_one_parameter_per_line():
    from compat.result import CheckResult

    old = from_sources(example_files(textwrap.dedent(OLD)), EXAMPLE_TARGET)
    new = from_sources(example_files(textwrap.dedent(NEW)), EXAMPLE_TARGET)
    md = CheckResult(EXAMPLE_TARGET, "v1", "v2", compare_surfaces(old, new), old, new).render("markdown")
    # the diff marks exactly the parameter that went away and the one that came
    assert "\n-     cursor=None,\n" in md and "\n      filters=None,\n" in md and "\n+     order=None,\n" in md
    # a lost dispatch shows the edges, one per line, not the signature
    assert "  launch_run(...) uses\n-     self.run_launcher\n+     self._run_launcher" in md


def test_text_report_leads_with_verdict_and_lists_most_severe_first(findings):
    text = _render(findings, "text")
    assert text.splitlines()[1].startswith("incompatible: ")
    assert text.index("BREAKING") < text.index("info (") < text.index("\nevidence: ")
    assert text.rstrip().splitlines()[-1] == text.splitlines()[1]  # the verdict again, where a terminal reader looks last


def test_behaviour_findings_are_grouped_by_cause_across_cells():
    from compat.behaviour import replay

    def missing(sub: str) -> object:
        cell = {"subclass": sub, "scenario": "runs_lifecycle", "storage": "memory"}
        old = "  create_run_for_job:call()  <- x [external]\n> create_run:call(str)  <- DagsterInstance.f [self]"
        new = "  create_run_for_job:call()  <- x [external]\n> run_storage:get()  <- RunDomain.f [external]"
        return replay._finding(replay.RULE_DISPATCH, cell, f"{replay.cell_label(cell)}: `create_run` is gone",
                                  old, new, audience="subclasses", change="missing",
                                  member_name="create_run", members_missing=["create_run"], members_added=[],
                                  caller="f")

    reworded = replay._finding(replay.RULE_EXCEPTION, {"subclass": "spy", "scenario": "x", "storage": "memory"},
                                  "spy/x/memory: step 'a' raises E with a different message", "m1", "m2",
                                  severity="warning", step="a")
    text = render([missing("spy"), missing("spy:chain-leaf"), reworded], "markdown", title="t", old_label="old",
                  new_label="new", fail_on="breaking")
    assert "**incompatible: 2 causes (1 breaking, 1 warning)**" in text
    assert "behaviour 2 cells on 2 subclasses (behaviour-dispatch-changed x2)" in text
    assert "behaviour 1 cell on 1 subclass (behaviour-exception-changed)" in text
    # the trace difference is a diff block, one dispatch per line
    assert "- create_run:call(str)  <- DagsterInstance.f [self]\n+ run_storage:get()  <- RunDomain.f [external]" in text
    assert "| `behaviour-exception-changed` | warning | behaviour | 1 |" in text


def test_markdown_always_fits_a_pull_request_comment():
    from compat.behaviour import replay
    from compat.report import MARKDOWN_LIMIT

    big = []
    for i in range(400):
        cell = {"subclass": "spy", "scenario": f"s{i}", "storage": "memory"}
        big.append(replay._finding(replay.RULE_RESULT, cell, f"spy/s{i}/memory: step 'x{i}' differs",
                                      "o" * 300, "n" * 300, step=f"x{i}"))
    full = render(big, "markdown", title="t", limit=10**9)
    cut = render(big, "markdown", title="t", full_report="report.full.md")
    assert len(full) > MARKDOWN_LIMIT >= len(cut)
    assert "the full report is in `report.full.md`" in cut
    assert cut.splitlines()[2].startswith("**incompatible: 400 causes")



def test_a_cut_report_with_a_section_of_its_own_gets_its_complete_one_beside_it(tmp_path):
    """`compat diff --griffe --report F.md` ends the report with griffe's side by side: the cut
    report was written alone, and the detail it cut (the witnesses' outcomes) was nowhere."""
    from compat.behaviour import replay
    from compat.result import CheckResult

    big = []
    for i in range(400):
        cell = {"subclass": "spy", "scenario": f"s{i}", "storage": "memory"}
        big.append(replay._finding(replay.RULE_RESULT, cell, f"spy/s{i}/memory: step 'x{i}' differs",
                                      "o" * 300, "n" * 300, step=f"x{i}"))
    result = CheckResult(target="pkg.mod:Instance", old_label="v1", new_label="v2", findings=big)
    written = result.write(tmp_path / "r.md", "markdown", "never", extra="## side by side\n")
    assert [p.name for p in written] == ["r.md", "r.full.md"]
    cut, full = (p.read_text() for p in written)
    assert "the full report is in `r.full.md`" in cut and len(full) > len(cut)
    assert cut.endswith("## side by side\n") and full.endswith("## side by side\n")

GITHUB_LIKE = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body { margin: 0; background: #fff; font: 14px/1.5 -apple-system, "Segoe UI", sans-serif; }
/* a pull-request comment at a 1280 px window: the conversation column less the sidebar */
article { width: 880px; margin: 24px 0 0 120px; padding: 16px; border: 1px solid #d0d7de; }
table { display: block; width: max-content; max-width: 100%; overflow: auto; border-collapse: collapse; }
td, th { border: 1px solid #d0d7de; padding: 6px 13px; }
code { background: #eff1f3; padding: .2em .4em; font-size: 85%; }
pre { background: #f6f8fa; padding: 16px; overflow: auto; }
</style></head><body><article>%s</article>
<script>
window.addEventListener("load", () => {
  const art = document.querySelector("article").getBoundingClientRect();
  const t = document.querySelector("table");
  const ev = [...t.querySelectorAll("th")].find(th => th.textContent === "evidence").getBoundingClientRect();
  document.body.setAttribute("data-measured", JSON.stringify({
    scroll: document.documentElement.scrollWidth, hidden: t.scrollWidth - t.clientWidth,
    evidence_right: ev.right, article_right: art.right}));
});
</script></body></html>"""


def _long_location_result():
    """The example refactor with the locations a dagster repository has (its instance methods
    live 6 folders down), as `compat compare` on a checkout reports them."""
    from compat.result import CheckResult

    mod = "dagster/_core/instance/methods/run_methods.py"
    files = {"dagster/__init__.py": "", "dagster/_core/__init__.py": "", "dagster/_core/instance/__init__.py": "",
             "dagster/_core/instance/methods/__init__.py": ""}
    target = "dagster._core.instance.methods.run_methods:Instance"
    old = from_sources({**files, mod: textwrap.dedent(OLD)}, target)
    new = from_sources({**files, mod: textwrap.dedent(NEW)}, target)
    return CheckResult(target=target, old_label="master ed3f0ad", new_label="refactor 621a1e4",
                       findings=compare_surfaces(old, new), old_surface=old, new_surface=new,
                       path_prefix="python_modules/dagster/")


def test_the_markdown_table_is_readable_in_a_pull_request_at_1280px(tmp_path):
    """Rendered as GitHub renders a comment (markdown-it, GFM tables) in a headless browser at
    1280 px: the causes table needs no sideways scrolling and its evidence column is on screen
    (the full path in the table once pushed it off); the full path is in each cause's section."""
    import html as html_lib
    import re

    from markdown_it import MarkdownIt

    from test_history import _chromium, _png_size

    result = _long_location_result()
    md = result.render("markdown")
    full = next(c.location for c in result.causes if c.location)
    assert full.startswith("python_modules/dagster/dagster/_core/instance/methods/run_methods.py:")
    assert f"`{full}`" in md  # in the cause's own section
    body = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(md)
    page = tmp_path / "comment.html"
    page.write_text(GITHUB_LIKE.replace("%s", body), encoding="utf-8")
    dom = _chromium("--dump-dom", "--window-size=1280,900", "--virtual-time-budget=2000", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    m = json.loads(html_lib.unescape(re.search(r'data-measured="([^"]+)"', dom.stdout).group(1)))
    assert m["scroll"] <= 1280 and m["hidden"] <= 1, m
    assert m["evidence_right"] <= m["article_right"], m
    shot = tmp_path / "comment.png"
    run = _chromium(f"--screenshot={shot}", "--window-size=1280,900", page.as_uri())
    assert run.returncode == 0 and _png_size(shot) == (1280, 900)

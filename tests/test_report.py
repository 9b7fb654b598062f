"""Reports: every format renders deterministically; JSON round-trips; JUnit is valid XML;
markdown shows old and new signatures side by side with the changed parameters marked."""

from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET

import pytest

from compat.diff import compare_surfaces
from compat.errors import CompatError
from compat.findings import Finding
from compat.report import FORMATS, inline_diff, parse_json, render, split_signature
from compat.rules.base import EXAMPLE_TARGET, example_files
from compat.surface import from_sources

OLD = """
from typing import Optional

class SettingsMixin:
    pass

class Instance:
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


def test_junit_is_valid_xml_with_one_testcase_per_member(findings):
    root = ET.fromstring(_render(findings, "junit"))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    members = sorted({f.member for f in findings})
    assert sorted(c.get("name") for c in cases) == members
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {f.member for f in findings if f.severity == "breaking"}
    assert root.get("failures") == str(len(failed))


def test_junit_threshold(findings):
    warn = ET.fromstring(_render(findings, "junit", fail_on="warning"))
    failed = {c.get("name") for c in warn.iter("testcase") if c.find("failure") is not None}
    assert failed == {f.member for f in findings if f.severity in ("breaking", "warning")}
    never = ET.fromstring(_render(findings, "junit", fail_on="never"))
    assert never.get("failures") == "0"
    assert not list(never.iter("failure"))


def test_junit_without_findings_has_a_passing_testcase():
    root = ET.fromstring(_render([], "junit"))
    assert len(list(root.iter("testcase"))) == 1 and root.get("failures") == "0"


def test_github_annotations(findings):
    lines = _render(findings, "github").splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    breaking = [f for f in findings if f.severity == "breaking"]
    errors = [line for line in lines[:-1] if line.startswith("::error ")]
    assert len(errors) == len(breaking)
    assert any("file=pkg/mod.py,line=" in line for line in errors)
    assert all("\n" not in line for line in lines)
    assert lines[-1].startswith("::error title=") and "incompatible" in lines[-1]
    assert not any(line.startswith("::notice ") for line in lines[:-1])  # info is only counted
    assert len(lines) == 1 + sum(f.severity != "info" for f in findings)


def test_github_escapes_newlines_and_separators():
    f = Finding(rule="r", severity="warning", audience="subclasses", member="m", message="a\nb, 100%",
                new_location="dir,x/mod.py:12")
    line = _render([f], "github").splitlines()[0]
    assert line.startswith("::warning file=dir%2Cx/mod.py,line=12,title=warning%3A r (m)::")
    assert line.endswith("a%0Ab, 100%25 [subclasses]")


def test_markdown_has_summary_tables_side_by_side_and_collapsed_info(findings):
    md = _render(findings, "markdown")
    assert "| severity | findings |" in md
    assert "| rule | severity | audience | findings |" in md
    assert "| v1 | v2 |" in md  # side-by-side signature table
    assert "<details>" in md and "</details>" in md
    info_start = md.index("<details>")
    for f in findings:
        if f.severity == "info":
            assert f"`{f.rule}`" in md[info_start:]
    # the removed parameter is struck out on the old side, the new one inserted on the new side
    assert "<del>cursor=None</del>" in md
    assert "<ins>*, order=None</ins>" in md or "<ins>order=None</ins>" in md


def test_markdown_does_not_mark_annotation_spelling():
    old, new = inline_diff(
        "def f(self, a: Optional[int] = None, b=1) -> Optional[str]",
        "def f(self, a: int | None = None, c=1) -> str | None",
    )
    assert old == "def f(self, a: Optional[int] = None, <del>b=1</del>) -&gt; Optional[str]"
    assert new == "def f(self, a: int &#124; None = None, <ins>c=1</ins>) -&gt; str &#124; None".replace("&#124;", "|")


def test_inline_diff_marks_return_and_escapes_html():
    old, new = inline_diff("def f(self) -> List[int]", "def f(self) -> Dict[str, int]")
    assert "<del>" in old and "<ins>" in new
    o, n = inline_diff("def f(self, a: 'x<y')", "def f(self)")
    assert "&lt;" in o and "<del>" in o


def test_split_signature_respects_brackets_and_strings():
    pre, params, post = split_signature("@property def f(self, a: Dict[str, int] = {'x,': 1}, *args) -> X")
    assert pre == "@property def f("
    assert params == ["self", "a: Dict[str, int] = {'x,': 1}", "*args"]
    assert post == ") -> X"
    assert split_signature("LIMIT = 3") is None


def test_text_report_lists_most_severe_first(findings):
    text = _render(findings, "text")
    assert text.index("BREAKING") < text.index("WARNING") < text.index("INFO")
    assert "incompatible" in text.splitlines()[1]


def test_inline_diff_marks_words_outside_signatures():
    assert inline_diff("MAX = 3", "MAX = 5") == ("MAX = <del>3</del>", "MAX = <ins>5</ins>")
    old, new = inline_diff("A -> B", "A -> M -> B")
    assert old == "A -&gt; B" and re.search(r"<ins>[^<]*M[^<]*</ins>", new)
    assert inline_diff(None, "x") == ("<em>absent</em>", "x")


def test_behaviour_findings_are_grouped_by_cause_across_cells():
    from compat import behaviour

    def missing(sub: str) -> object:
        cell = {"subclass": sub, "scenario": "runs_lifecycle", "storage": "memory"}
        return behaviour._finding(behaviour.RULE_DISPATCH, cell, f"{behaviour.cell_label(cell)}: `create_run` is gone",
                                  "create_run:call()", None, audience="subclasses", change="missing",
                                  member_name="create_run", members_missing=["create_run"], members_added=[])

    reworded = behaviour._finding(behaviour.RULE_EXCEPTION, {"subclass": "spy", "scenario": "x", "storage": "memory"},
                                  "spy/x/memory: step 'a' raises E with a different message", "m1", "m2",
                                  severity="warning", step="a")
    text = render([missing("spy"), missing("spy:chain-leaf"), reworded], "markdown", title="t", old_label="old",
                  new_label="new", fail_on="breaking")
    assert "(2 causes in 3 cells)" in text
    assert "#### `behaviour-dispatch-changed`: `create_run` (missing) in 2 cells" in text
    assert "`spy/runs_lifecycle/memory`, `spy:chain-leaf/runs_lifecycle/memory`" in text
    assert "#### `behaviour-exception-changed`: `x` step `a` in 1 cell" in text
    # the rule table counts a rule once per severity it was reported with
    assert "| `behaviour-exception-changed` | warning |" in text

"""Return contracts on real dagster 1.11.4 and 1.11.6 (environments built by uv and cached): an
override that returns what the 1.11.4 base returned from the health-state reads (None) runs on
1.11.4 and breaks 1.11.6's own asset-health loaders, which dropped their None check; the old
release put to its own answers shows nothing."""

from __future__ import annotations

import json

import pytest

from compat.causes import Cause
from compat.model.errors import CompatError
from compat.model.findings import BREAKING
from compat.report import render
from compat.static.extract import DEFAULT_TARGET
from compat import returns
from pairs import released_pair

HEALTH = "get_asset_check_health_state_for_assets"


@pytest.fixture(scope="module")
def pair():
    o, n, causes, pythons = released_pair()
    return o, n, causes, pythons


def _only(causes: dict[str, Cause], member: str) -> list[Cause]:
    """The return-annotation cause cut to one member: one contract, so the test runs few programs."""
    c = causes["annotations:return annotations"]
    cut = Cause(c.id, c.kind, c.subject, c.severity, c.title, findings=[f for f in c.findings if f.member == member])
    assert cut.findings, f"{member} is no longer among the narrowed returns"
    return [cut]


@pytest.mark.slow
def test_the_health_state_reads_narrowed_return_is_a_proven_runtime_break(pair):
    old, new, causes, pythons = pair
    assert HEALTH in returns.candidates(list(causes.values()), old, new)
    proven, skipped = returns.contracts(_only(causes, HEALTH), old, new, DEFAULT_TARGET, pythons, jobs=2)
    assert skipped == {}
    [c] = proven
    assert c.id == f"return-contract:{HEALTH}" and c.severity == BREAKING
    data = c.to_dict()
    assert data["breakage"] == data["witness"]["proves"] == "runtime"
    assert data["witness"]["old"].startswith(f"the base accepts the old answers of {HEALTH}")
    assert data["witness"]["new"].startswith("AttributeError: 'NoneType' object has no attribute 'get'")
    assert "asset_health/asset_check_health.py" in data["witness"]["new"]
    # the program answers with the 1.11.4 base's own answer, by the shape of the call
    assert "ANSWERS = {\n    (('list',), ()): None,\n}" in c.witness["code"]
    assert f"return super().{HEALTH}(*args, **kwargs)" in c.witness["code"]
    # every report shows it, its witness included
    md = render([], "markdown", title="t", old_label="1.11.4", new_label="1.11.6", causes=[c])
    assert f"return-contract:{HEALTH}" in md and "AttributeError" in md
    assert json.loads(render([], "json", title="t", old_label="1.11.4", new_label="1.11.6", causes=[c]))


@pytest.mark.slow
def test_the_old_release_against_its_own_answers_shows_nothing(pair):
    old, new, causes, pythons = pair
    proven, skipped = returns.contracts(_only(causes, HEALTH), old, new, DEFAULT_TARGET, (pythons[0], pythons[0]))
    assert proven == []
    assert skipped[HEALTH].startswith("its witness passes on both sides")


def test_only_plain_answers_given_the_same_for_a_shape_are_replayed():
    shape = "(('list',), ())"
    assert returns.usable_answers([[shape, "None"]]) == ({shape: "None"}, "")
    # a dagster object (no literal) or two answers for one shape: left to super()
    assert returns.usable_answers([[shape, None]]) == ({}, "the old answers are not plain data a program can "
                                                           "rebuild (a dagster object, say)")
    assert returns.usable_answers([[shape, "1"], [shape, "2"]])[1] == ("the old base answered calls of the "
                                                                       "same shape differently")
    assert returns.usable_answers([])[1].startswith("no call site")
    assert returns.usable_answers([[shape, "1"], ["((), ())", "[]"]])[0] == {shape: "1", "((), ())": "[]"}


@pytest.mark.parametrize("line", ["not json", '["a"]', '{"other": []}', '{"m": [["(", "None"]]}',
                                  '{"m": [["()", "os.system(1)"]]}', '{"m": [[1, 2]]}'])
def test_the_recorders_answers_are_checked_before_a_program_embeds_them(line):
    with pytest.raises(CompatError):
        returns._parse_answers(line, ["m"])


@pytest.mark.slow
def test_a_return_contract_is_attached_only_to_methods_on_both_sides(pair):
    old, new, causes, _ = pair
    names = returns.candidates(list(causes.values()), old, new)
    assert names and all(old.members[n].kind == "method" and n in new.members for n in names)
    assert not any(n.startswith("__") for n in names)


@pytest.mark.slow
def test_compat_witness_reruns_a_return_contract(pair, tmp_path):
    import subprocess
    import sys

    from pairs import NEW, OLD

    proc = subprocess.run([sys.executable, "-m", "compat", "witness", f"return-contract:{HEALTH}", "--old", OLD,
                           "--new", NEW, "--witness-dir", str(tmp_path / "w")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert f"return-contract:{HEALTH}: runtime" in proc.stdout and "AttributeError" in proc.stdout
    [written] = (tmp_path / "w").iterdir()
    assert written.name == f"return-contract_{HEALTH}.py"
    # the file runs as it is: the old side accepts its own answers
    assert subprocess.run([pair[3][0], str(written)], capture_output=True, cwd=tmp_path).returncode == 0

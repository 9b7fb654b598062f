"""The rule scaffolder writes a new surface rule as one unit into a copy of the checkout.

The copy is imported ahead of the installed compat (PYTHONPATH), so the scaffolder, the docs it
regenerates and the catalogue read afterwards are all the copy's; the checkout itself is never
written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEW_ID = "member-renamed-loudly"


def _run(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True)


def _digest(*paths: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


@pytest.fixture
def copy(tmp_path):
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "compat", tmp_path / "compat", ignore=ignore)
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=ignore)
    return tmp_path


def test_a_scaffolded_rule_is_registered_with_its_fixture_pair_and_documented(copy):
    before = _digest(ROOT / "compat" / "rules" / "members.py", ROOT / "docs" / "rules.md")
    run = _run(copy, "-m", "compat.tools.new_rule", NEW_ID, "--family", "members")
    assert run.returncode == 0, run.stderr
    assert "compat/rules/members.py" in run.stdout
    assert f'id="{NEW_ID}"' in (copy / "compat" / "rules" / "members.py").read_text()
    docs = (copy / "docs" / "rules.md").read_text()
    assert f"#### `{NEW_ID}`" in docs and "**Not reported** (near miss, tested)" in docs.split(f"#### `{NEW_ID}`")[1]
    assert _digest(ROOT / "compat" / "rules" / "members.py", ROOT / "docs" / "rules.md") == before

    # the copy's catalogue has it, with a fixture and a near miss; it reports nothing until its
    # detection is written, so the registry tests fail for it (its fixture must fire)
    probe = (
        "import json; from compat.catalogue import RULES; from compat.catalogue.fixtures import findings_of\n"
        f"r = RULES[{NEW_ID!r}]\n"
        "print(json.dumps({'layer': r.layer, 'family': r.family, 'near': r.near_miss is not None,"
        " 'fires': [f.rule for f in findings_of(r)], 'file': __import__('compat').__file__}))\n"
    )
    seen = _run(copy, "-c", probe)
    assert seen.returncode == 0, seen.stderr
    got = json.loads(seen.stdout)
    assert got["file"].startswith(str(copy))
    assert (got["layer"], got["family"], got["near"]) == ("surface", "members", True)
    assert NEW_ID not in got["fires"]
    # and its docs are what the catalogue renders now
    check = _run(copy, "-m", "compat.catalogue.docs", "--check")
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("args,message", [
    (["public-member-removed", "--family", "members"], "exists already"),
    ([NEW_ID, "--family", "nope"], "unknown surface family 'nope'"),
    (["Not_Kebab", "--family", "members"], "ids are kebab-case"),
    ([NEW_ID, "--family", "members", "--severity", "fatal"], "unknown severity 'fatal'"),
])
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(copy, args, message):
    before = _digest(copy / "compat" / "rules" / "members.py", copy / "docs" / "rules.md")
    run = _run(copy, "-m", "compat.tools.new_rule", *args)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and message in run.stderr and "Traceback" not in run.stderr
    assert _digest(copy / "compat" / "rules" / "members.py", copy / "docs" / "rules.md") == before

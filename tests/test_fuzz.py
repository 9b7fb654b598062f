"""Differential fuzzing: finds the real 1.11.5 break, shrinks it, prints a snippet that runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compat.envs import parse_spec, python_for
from compat.errors import CompatError
from compat.fuzz import FuzzWorker, run_fuzz

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def py_1_11_4() -> str:
    return python_for(parse_spec("dagster==1.11.4"))


@pytest.fixture(scope="module")
def py_1_11_5() -> str:
    return python_for(parse_spec("dagster==1.11.5"))


def test_same_version_finds_nothing():
    result = run_fuzz(sys.executable, sys.executable, max_examples=40)
    assert result.mismatch is None
    assert result.examples >= 30 and result.steps > result.examples


def test_finds_and_shrinks_create_run_dispatch_loss(py_1_11_4, py_1_11_5, tmp_path):
    """1.11.5's RunDomain.create_run_for_job calls its own create_run, so the corpus
    override that stamps tags is skipped; the fuzzer finds it and shrinks it to one step."""
    result = run_fuzz(py_1_11_4, py_1_11_5, max_examples=40, subclasses=("spy:create-run-tags",))
    m = result.mismatch
    assert m is not None
    assert m.program == [("create_run_for_job", {"tags": {}, "status": "NOT_STARTED"})] or len(m.program) <= 2
    assert m.old["overrides_dispatched"] == ["create_run"] and m.new["overrides_dispatched"] == []
    # the printed snippet is runnable and reproduces the difference on the two versions
    script = tmp_path / "repro.py"
    script.write_text(m.snippet())
    outs = [
        subprocess.run([py, str(script)], capture_output=True, text=True, check=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, cwd=tmp_path).stdout
        for py in (py_1_11_4, py_1_11_5)
    ]
    assert outs[0] != outs[1]
    assert "corpus/origin" in outs[0] and "corpus/origin" not in outs[1]


def test_crashed_worker_is_a_harness_error(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'no dagster here' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(CompatError, match="crashed during start-up"):
        FuzzWorker(str(fake), "broken")

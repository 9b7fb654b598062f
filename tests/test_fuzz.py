"""Differential fuzzing: finds the real 1.11.5 break, shrinks it, prints a snippet that runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compat.envs import parse_spec, python_for
from compat.model.errors import CompatError
from compat.fuzz.differential import FuzzWorker, run_fuzz

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


def test_the_seed_picks_the_programs():
    """The same seed draws the same programs, another seed others (a seed used to be ignored, and
    the sequence hung on the search's own source text, so any edit of it changed stored programs)."""
    runs = [run_fuzz(sys.executable, sys.executable, max_examples=24, steps=4, seed=s).programs for s in (0, 0, 1)]
    assert runs[0] == runs[1]
    assert runs[2] != runs[0]


def _first(arg):
    """The simplest value a search can draw for an argument."""
    return {"choice": lambda: arg.values[0], "ints": lambda: arg.low, "dicts": lambda: {arg.keys[0]: arg.values[0]},
            "lists": lambda: list(arg.values[:max(arg.min_size, 1)])}[arg.kind]()


def test_every_operation_is_written_once_and_names_a_member_of_the_instance():
    """An op's implementation, its line of Python, its entry member and its drawn arguments live in
    one entry; the search draws exactly the arguments the implementation takes."""
    import inspect

    from dagster import DagsterInstance

    from compat.fuzz import ops
    from compat.fuzz.differential import build_machine, strategy

    for op in ops.OPS.values():
        takes = list(inspect.signature(op.run).parameters)[1:]
        assert takes == list(op.args), op.name
        example = {k: _first(a) for k, a in op.args.items()}
        assert all(strategy(a) is not None for a in op.args.values())
        member = ops.entry_member(op.name, example)
        assert hasattr(DagsterInstance, member), (op.name, member)
        assert ops.code_line(op.name, example).startswith(f"instance.{member}")
    machine = build_machine(None, None, ("base",), None)
    assert {r.function.__name__ for r in machine.setup_state().rules} == set(ops.OPS)


@pytest.mark.slow
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


def test_stored_programs_replay_clean_and_report_an_altered_result(tmp_path):
    from compat.fuzz import differential
    from compat.model import jsonio

    path = tmp_path / differential.PROGRAMS_FILE
    n = differential.record_programs(sys.executable, path, max_examples=18)
    assert n > 5
    first = path.read_bytes()
    assert differential.record_programs(sys.executable, tmp_path / "again.json", max_examples=18) == n
    assert (tmp_path / "again.json").read_bytes() == first  # deterministic
    assert differential.replay_programs(differential.load_programs(path), sys.executable, ("recorded", "installed")) == []
    data = jsonio.read_json(path, schema=differential.PROGRAMS_SCHEMA, versions=(differential.PROGRAMS_VERSION,))
    data["programs"][2]["results"][-1] = {"overrides_dispatched": [], "value": "something else"}
    jsonio.write_json(path, data)
    [f] = differential.replay_programs(differential.load_programs(path), sys.executable, ("recorded", "installed"))
    assert f.rule == "fuzz-mismatch" and f.details["program"].startswith("002-")
    assert "run_program(program" in f.details["snippet"]
    path.write_text(first.decode()[:200])
    with pytest.raises(CompatError):
        differential.load_programs(path)


def test_programs_stored_from_1_11_4_catch_the_ignored_create_run_override():
    """The shipped 1.11.4 baseline's programs, replayed on the installed dagster: the
    create_run override of the create-run-tags subclass is no longer reached."""
    from compat.fuzz import differential

    programs = differential.load_programs(ROOT / "snapshots" / "baseline-1.11.4" / differential.PROGRAMS_FILE)
    findings = differential.replay_programs(programs, sys.executable, ("dagster 1.11.4", "installed"))
    hits = [f for f in findings if f.member == "spy:create-run-tags/create_run_for_job"]
    assert hits and all('"create_run"' in f.old and '"create_run"' not in f.new for f in hits)

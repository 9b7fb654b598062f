"""The command line: exit codes, one-line errors, no tracebacks, atomic outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compat.static.extract import from_sources, write_surface


def run(*args: str, env: dict | None = None, cwd: str | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COMPAT_QUIET": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "compat", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, stdin=subprocess.DEVNULL, timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


TOY_OLD = "class A:\n    def f(self, x, y=1):\n        return self.g()\n    def g(self):\n        return 1\n"
TOY_NEW = "class A:\n    def f(self, x, z=1):\n        return 2\n    def g(self):\n        return 1\n"


@pytest.fixture
def toy_pair(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    write_surface(from_sources({"pkg/__init__.py": "", "pkg/mod.py": TOY_OLD}, "pkg.mod:A"), old)
    write_surface(from_sources({"pkg/__init__.py": "", "pkg/mod.py": TOY_NEW}, "pkg.mod:A"), new)
    return old, new


def test_diff_exit_codes(toy_pair):
    old, new = toy_pair
    same = run("diff", str(old), str(old), "--target", "pkg.mod:A")
    assert same.returncode == 0, same.stderr
    changed = run("diff", str(old), str(new), "--target", "pkg.mod:A", "--format", "json")
    assert changed.returncode == 1, changed.stderr
    rules = {f["rule"] for f in json.loads(changed.stdout)["findings"]}
    assert "parameter-renamed" in rules or "parameter-removed" in rules
    never = run("diff", str(old), str(new), "--target", "pkg.mod:A", "--fail-on", "never")
    assert never.returncode == 0


@pytest.mark.parametrize("content,needle", [
    ("", "empty file"),
    ('{"schema": "compat.surface", "schema_version": 1, "tar', "corrupt or truncated"),
    ('{"schema": "compat.surface", "schema_version": 7}', "schema version 7 is not supported"),
    ('{"schema": "compat.surface", "schema_version": 0}', "re-record it"),
    ("[1, 2]", "not a compat.surface file"),
    ('{"schema": "compat.surface", "schema_version": 1, "cls": 3}', "field required"),
])
def test_diff_bad_snapshots(tmp_path, toy_pair, content, needle):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert_one_line_error(run("diff", str(bad), str(toy_pair[0])), needle)


def test_missing_snapshot_file(tmp_path, toy_pair):
    assert_one_line_error(run("diff", str(tmp_path / "nope.json"), str(toy_pair[0])), "no such file")


@pytest.mark.parametrize("args,needle", [
    (("snapshot", "--target", "no_such_module:X"), "module no_such_module not found"),
    (("snapshot", "--target", "dagster._core.instance:NoSuchClass"), "has no attribute NoSuchClass"),
    (("snapshot", "--target", "dagster._core.instance.utils:RUNLESS_RUN_ID"), "not a class"),
    (("snapshot", "--target", "justamodule"), "expected module:Class"),
    (("snapshot", "--python", "/no/such/python"), "no such interpreter"),
    (("snapshot", "--dagster-version", "not-a-version"), "not a dagster version"),
    (("snapshot", "--dagster-version", "0.0.999"), "cannot fetch dagster==0.0.999"),
    (("diff", "dagster==banana", "installed"), "not a dagster version"),
    (("diff", "/etc", "installed"), "no `dagster` package found"),
    (("check", "--baseline", "/no/such/baseline"), "no such directory"),
])
def test_bad_input_one_line(args, needle):
    assert_one_line_error(run(*args), needle)


def test_broken_interpreter(tmp_path):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    broken.chmod(0o755)
    assert_one_line_error(run("snapshot", "--python", str(broken)), "failed to start")
    notpy = tmp_path / "notpython"
    notpy.write_text("#!/bin/sh\necho hello\n")
    notpy.chmod(0o755)
    assert_one_line_error(run("snapshot", "--python", str(notpy)), "did not report its sys.path")


def test_no_network_is_one_line(tmp_path):
    """With the index unreachable and an empty cache, fetching a wheel fails cleanly."""
    env = {
        "COMPAT_CACHE_DIR": str(tmp_path / "cache"),
        "UV_CACHE_DIR": str(tmp_path / "uvcache"),
        "UV_INDEX_URL": "http://127.0.0.1:9/simple",
        "UV_DEFAULT_INDEX": "http://127.0.0.1:9/simple",
        "UV_EXTRA_INDEX_URL": "",
        "UV_FIND_LINKS": "",
        "UV_OFFLINE": "1",
        "PIP_FIND_LINKS": "",
    }
    proc = run("snapshot", "--dagster-version", "1.11.4", env=env)
    assert_one_line_error(proc, "dagster==1.11.4")
    assert not (tmp_path / "cache" / "wheels" / "dagster-1.11.4").exists()


def test_snapshot_output_is_atomic_and_identical(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run("snapshot", "-o", str(a)).returncode == 0
    assert run("snapshot", "--no-cache", "-o", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_failed_snapshot_keeps_existing_file(tmp_path):
    out = tmp_path / "s.json"
    out.write_text("previous")
    proc = run("snapshot", "--target", "dagster._core.instance:Nope", "-o", str(out))
    assert proc.returncode == 2
    assert out.read_text() == "previous"


def test_debug_shows_traceback():
    proc = run("--debug", "snapshot", "--target", "no_such_module:X")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_python_dash_m_and_console_script_agree(tmp_path):
    script = Path(sys.executable).parent / "compat"
    a = subprocess.run([str(script), "snapshot"], capture_output=True, text=True)
    b = run("snapshot")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_source_tree_spec_in_a_checkout_layout(tmp_path):
    """A dagster checkout (python_modules/dagster/dagster/...) works as SPEC and as --path:
    here the 1.11.4 sources laid out like a checkout, compared with the 1.11.4 wheel."""
    import shutil

    from compat.envs import wheel_tree

    checkout = tmp_path / "dagster"
    shutil.copytree(wheel_tree("1.11.4") / "dagster", checkout / "python_modules" / "dagster" / "dagster")
    snap = run("snapshot", "--path", str(checkout), "-o", str(tmp_path / "tree.json"))
    assert snap.returncode == 0, snap.stderr
    assert json.loads((tmp_path / "tree.json").read_text())["generator"]["dagster"] == "1.11.4"
    same = run("diff", str(checkout), "dagster==1.11.4", "--format", "json")
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["summary"]["total"] == 0
    newer = run("diff", str(checkout), "installed", "--fail-on", "breaking")
    assert newer.returncode == 1 and "hook-no-longer-called" in newer.stdout


@pytest.fixture(scope="module")
def static_baseline_1114(tmp_path_factory) -> Path:
    from compat.pipeline import record_static_baseline
    from compat.sides import resolve
    from compat.static.extract import DEFAULT_TARGET

    out = tmp_path_factory.mktemp("check") / "baseline-1.11.4"
    record_static_baseline(out, resolve("dagster==1.11.4"), DEFAULT_TARGET)
    return out


def test_check_leads_with_the_verdict_and_the_causes(static_baseline_1114, tmp_path):
    """The real refactor, statically: 1.11.4 against the installed dagster, in every format."""
    text = run("check", "--baseline", str(static_baseline_1114))
    assert text.returncode == 1, text.stderr
    lines = text.stdout.splitlines()
    assert lines[1].startswith("incompatible: ") and "breaking" in lines[1]
    assert "installed" not in lines[0] and "dagster 1.11.4 -> dagster 1." in lines[0]
    assert lines[4].startswith("  1. BREAKING ")
    data = json.loads(run("check", "--baseline", str(static_baseline_1114), "--format", "json").stdout)
    causes = {c["id"]: c for c in data["causes"]}
    # every finding is in exactly one cause
    assert sum(len(c["findings"]) for c in data["causes"]) == len(data["findings"])
    create_run = causes["dispatch-lost:create_run"]
    assert set(create_run["edited"]) == {"create_run_for_job", "create_reexecuted_run"} and create_run["severity"] == "breaking"
    assert create_run["evidence"]["surface"]["rules"] == {"hook-no-longer-called": 2}
    assert create_run["location"].startswith("dagster/_core/instance/methods/run_methods.py:")
    assert any(c["kind"] == "renamed" for c in data["causes"])  # _get_event_log_handler -> get_event_log_handler
    assert data["summary"]["verdict_line"] == lines[1]
    report = tmp_path / "report.md"
    md = run("check", "--baseline", str(static_baseline_1114), "--format", "markdown", "--report", str(report))
    assert md.returncode == 1 and report.read_text().splitlines()[2].startswith("**incompatible: ")
    assert len(report.read_text()) <= 60_000
    never = run("check", "--baseline", str(static_baseline_1114), "--fail-on", "never")
    assert never.returncode == 0 and never.stdout.splitlines()[1].startswith("incompatible: ")


def _options():
    from compat.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.option_strings and action.nargs != 0 and not action.required:
                yield name, p, action


def test_every_option_says_its_default():
    """Every option that takes a value and may be left out says what happens without it, and no
    help shows Python's `None`."""
    missing = []
    for name, p, action in _options():
        shown = p._get_formatter()._expand_help(action) if action.help else ""
        if "default" not in shown or "None" in shown:
            missing.append(f"{name} {action.option_strings[-1]}: {shown}")
    assert missing == []


def test_the_gate_and_the_check_command_take_their_shared_options_from_one_declaration():
    """`compat check` and the gate's pytest options are built from compat/options.py: the same
    values, and the same help wherever the two front ends mean the same by an option; the gate
    states its default, though it gives pytest none (so that [tool.compat] can fill it in)."""
    from _pytest.config.argparsing import Parser as PytestParser

    from compat import options, plugin
    from compat.cli import build_parser

    pytest_parser = PytestParser(_ispytest=True)
    plugin.pytest_addoption(pytest_parser)
    gate = {a.names()[-1]: a.attrs() for a in pytest_parser.getgroup("compat").options}
    assert list(gate) == [f"--compat-{o.gate_name or o.name}" for o in options.GATE_OPTIONS]
    check = next(a for a in build_parser()._actions if a.dest == "command").choices["check"]
    cli = {a.option_strings[-1]: a for a in check._actions if a.option_strings}
    shared = [o for o in options.GATE_OPTIONS if f"--{o.name}" in cli]
    assert [o.name for o in shared] == ["baseline", "target", "report", "fail-on", "python", "full", "witness",
                                        "path-prefix"]
    for o in shared:
        ours, theirs = gate[f"--compat-{o.name}"], cli[f"--{o.name}"]
        assert (ours["choices"], ours["metavar"], ours["default"] in (None, False)) == (
            theirs.choices, theirs.metavar, True), o.name
        if o.gate_help is None:
            assert ours["help"].split(" (default: ")[0] == theirs.help.split(" (default: ")[0], o.name
    assert gate["--compat-fail-on"]["help"].endswith("(default: breaking)") and cli["--fail-on"].default == "breaking"


def test_help_texts_are_true(toy_pair, tmp_path):
    old, new = toy_pair
    # --report: the --format report goes to FILE and stdout gets the text report, as its help says
    report = tmp_path / "r.md"
    proc = run("diff", str(old), str(new), "--format", "markdown", "--report", str(report))
    assert proc.returncode == 1 and report.read_text().startswith("#")
    assert proc.stdout.splitlines()[1].startswith("incompatible: ") and "#" not in proc.stdout.splitlines()[0]
    helped = run("diff", "--help").stdout
    assert "instead of stdout" not in helped and "stdout then gets the text report" in " ".join(helped.split())
    # --annotations without --report is a usage error, not silently ignored
    assert_one_line_error(run("diff", str(old), str(new), "--annotations"), "--annotations needs --report FILE")
    with_report = run("diff", str(old), str(new), "--report", str(tmp_path / "r.txt"), "--annotations")
    assert with_report.stdout.startswith("::error title=")
    # compare fuzzes only when asked, and says so
    compare = " ".join(run("compare", "--help").stdout.split())
    assert "(default: 0, no live fuzzing)" in compare
    top = " ".join(run("--help").stdout.split())
    assert "surfaces, profiles and behaviour replay of two dagsters (live fuzzing with --max-examples)" in top



def test_worker_counts_default_to_the_cores_this_process_may_use():
    from compat.cli import build_parser

    cores = len(os.sched_getaffinity(0))
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    with_jobs = {name: next(a for a in p._actions if a.dest == "jobs") for name, p in subparsers.items()
                 if any(a.dest == "jobs" for a in p._actions)}
    assert {"baseline", "check", "compare", "mutate", "coverage", "bisect", "history"} <= set(with_jobs)
    for name, action in with_jobs.items():
        assert action.default == cores, name
        assert "one per core" in action.help, name
    # the affinity counts, not the machine's core count: pinned to one core, one worker
    pinned = subprocess.run([sys.executable, "-m", "compat", "baseline", "--help"], capture_output=True, text=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}), timeout=120)
    assert "one per core this process may use, 1 here" in " ".join(pinned.stdout.split())

"""The gate's pytest plugin is a good neighbour in a shared venv: named `compat` for pytest
(`-p no:compat` leaves it out), importing nothing heavy until a run asks for the gate, and never
aborting or changing a run that did not (its cost is measured by `bench/run.py --only plugin`)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("griffe", "pydantic", "rich", "hypothesis", "dagster", "compat.gate", "compat.causes", "compat.channel",
         "compat.envs")

OWN_TEST = f"""import sys


def test_own():
    heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)
    assert heavy == [], heavy
"""


def pytest_run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_the_entry_point_is_named_compat():
    points = [ep for ep in entry_points(group="pytest11") if ep.value == "compat.plugin"]
    assert [ep.name for ep in points] == ["compat"]


def test_importing_the_plugin_imports_nothing_heavy():
    code = ("import sys, pytest, compat.plugin; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_an_unrelated_run_loads_the_plugin_and_nothing_heavy(tmp_path):
    (tmp_path / "test_own.py").write_text(OWN_TEST)
    proc = pytest_run(tmp_path)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
    # the plugin is there: its options are known to the same run
    helped = pytest_run(tmp_path, "--help")
    assert "--compat-baseline" in helped.stdout


def test_no_compat_leaves_the_plugin_out(tmp_path):
    (tmp_path / "test_own.py").write_text(OWN_TEST)
    helped = pytest_run(tmp_path, "-p", "no:compat", "--help")
    assert helped.returncode == 0 and "--compat-baseline" not in helped.stdout
    proc = pytest_run(tmp_path, "-p", "no:compat", "--compat-baseline", "x")
    assert proc.returncode == 4 and "unrecognized arguments: --compat-baseline" in proc.stderr


def test_a_run_from_a_folder_above_the_harness_is_the_users_own(tmp_path):
    """`pytest .` over a workspace that holds the harness once aborted with "no baseline
    recorded" (exit 4): the gate is left uncollected unless the run names it."""
    workspace = tmp_path / "workspace"
    (workspace / "tools" / "harness").mkdir(parents=True)
    (workspace / "tools" / "harness" / "compat").symlink_to(ROOT / "compat", target_is_directory=True)
    (workspace / "test_own.py").write_text(OWN_TEST)
    proc = pytest_run(workspace, ".", "--compat-baseline", str(tmp_path / "missing"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout and "test_gate" not in proc.stdout
    # naming the gate's package still asks for it, and a missing baseline is still one line
    asked = pytest_run(workspace, "tools/harness/compat", "--compat-baseline", str(tmp_path / "missing"))
    assert asked.returncode == 4 and "compat:" in asked.stderr and "Traceback" not in asked.stderr


def test_every_option_that_takes_a_value_says_its_default():
    from _pytest.config.argparsing import Parser

    from compat import plugin

    parser = Parser()
    plugin.pytest_addoption(parser)
    options = parser.getgroup("compat").options
    assert len(options) >= 9
    actions = [o._action for o in options]
    silent = [a.option_strings[0] for a in actions if a.nargs != 0 and "(default: " not in a.help]
    assert silent == []

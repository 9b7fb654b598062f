"""The accept flow end to end, through the installed gate plugin on a real change of a class:
red, accepted (shown with its reason, not counted), re-recorded (the entry absorbed), still
green, and a new change red again."""

from __future__ import annotations

import json
import os
import subprocess
import sys

V1 = "class Base:\n    def run(self, key):\n        return self._hook(key)\n\n    def _hook(self, key):\n        return key\n"
V2 = V1.replace("def run(self, key):\n        return self._hook(key)", "def run(self, name):\n        return self._hook(name)")
V3 = V2.replace("    def _hook(self, key):\n        return key\n", "    def _hook_v2(self, key):\n        return key\n")


def test_accept_then_rerecord_stays_green_and_a_new_change_is_red(tmp_path):
    src, project = tmp_path / "src" / "toypkg", tmp_path / "project"
    src.mkdir(parents=True)
    project.mkdir()
    (src / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[tool.compat]\nbehaviour = false\ntarget = "toypkg.mod:Base"\nbaseline = "base"\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src"), "COMPAT_QUIET": "1"}

    def gate(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "compat", "-q", "-p", "no:cacheprovider",
                               *args], capture_output=True, text=True, cwd=project, env=env, timeout=600)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "compat", *args], capture_output=True, text=True,
                              cwd=project, env=env, timeout=600)

    (src / "mod.py").write_text(V1)
    first = gate("--compat-update")
    assert first.returncode == 0, first.stdout + first.stderr
    assert (project / "base" / "surface.json").is_file()

    (src / "mod.py").write_text(V2)
    red = gate()
    assert red.returncode == 1, red.stdout
    report = json.loads(cli("check", "--baseline", "base", "--format", "json", "--fail-on", "never").stdout)
    (cause,) = [c for c in report["causes"] if c["severity"] == "breaking"]

    accepted = cli("accept", "--baseline", "base", "--cause", cause["id"], "--reason", "key is now name, reviewed",
                   "--static-only")
    assert accepted.returncode == 0, accepted.stderr
    green = gate()
    assert green.returncode == 0, green.stdout
    assert "accepted" in green.stdout and "key is now name, reviewed" in green.stdout
    shown = json.loads(cli("check", "--baseline", "base", "--format", "json").stdout)
    assert shown["summary"]["verdict"] == "compatible"
    assert {a["reason"] for a in shown["accepted"]} == {"key is now name, reviewed"}

    rerecorded = gate("--compat-update")
    assert rerecorded.returncode == 0, rerecorded.stdout
    assert "dropped: parameter-renamed run" in rerecorded.stdout
    entries = json.loads((project / "base" / "accepted.json").read_text())["accepted"]
    assert entries == []
    assert gate().returncode == 0

    (src / "mod.py").write_text(V3)
    again = gate()
    assert again.returncode == 1 and "_hook" in again.stdout

"""A new side that cannot import the target is a breaking finding, not a harness failure: the
exception and the module whose import failed are reported, the static findings beside it, and
the exit code is 1."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster

from compat.behaviour.compare import import_finding
from compat.behaviour.replay import import_failure

ROOT = Path(__file__).resolve().parents[1]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_dropped_reexport_names_the_module_whose_import_fails(tmp_path, monkeypatch):
    tree = _tree(tmp_path / "new", {
        "pkg/__init__.py": "",
        "pkg/types.py": "class InstanceType: ...\n",
        "pkg/mod.py": "from pkg.user import helper\nclass Instance: ...\n",
        "pkg/user.py": "from pkg.types import InstanceRef\ndef helper(): ...\n",
    })
    monkeypatch.setenv("PYTHONPATH", str(tree))
    error = import_failure(sys.executable, "pkg.mod:Instance")
    assert error == {"exception": "ImportError: cannot import name 'InstanceRef' from 'pkg.types'",
                     "module": "pkg.user", "line": 1}
    f = import_finding(error)
    assert (f.rule, f.severity, f.source) == ("target-import-failed", "breaking", "behaviour")
    assert f.details["module"] == "pkg.user" and "InstanceRef" in f.message
    (tree / "pkg/types.py").write_text("class InstanceType: ...\nclass InstanceRef: ...\n")
    assert import_failure(sys.executable, "pkg.mod:Instance") is None


def test_check_of_a_dagster_that_no_longer_imports_exits_1_with_the_static_half(tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(Path(dagster.__file__).parent, lib / "dagster")
    init = lib / "dagster" / "_core" / "instance" / "__init__.py"
    text = init.read_text()
    assert "    MayHaveInstanceWeakref as MayHaveInstanceWeakref,\n" in text
    init.write_text(text.replace("    MayHaveInstanceWeakref as MayHaveInstanceWeakref,\n", ""))
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nPYTHONPATH={lib} exec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    proc = subprocess.run([sys.executable, "-m", "compat", "check", "--baseline", str(ROOT / "snapshots" / "baseline"),
                           "--python", str(python), "--format", "json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    rules = {f["rule"] for f in report["findings"]}
    assert {"target-import-failed", "export-removed"} <= rules
    broken = next(f for f in report["findings"] if f["rule"] == "target-import-failed")
    assert broken["details"]["module"] == "dagster._core.storage.compute_log_manager"
    assert "cannot import name 'MayHaveInstanceWeakref'" in broken["details"]["exception"]

"""Where maintainers work: a dagster checkout in the real layout, its git revisions as sides,
locations that name the repository's files, the gate as an installed pytest plugin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from checkout import commit_edit, git, make_checkout, make_refactor_branch
from compat import sides
from compat.gate.gate import default_baseline
from compat.record import _matching_profiles
from compat.model.errors import CompatError
from compat.static.extract import side_surface

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = "python_modules/dagster/dagster/_core/instance/instance.py"
EDIT = ("        record = self.get_run_record_by_id(run_id)\n",
        "        record = next(iter(self._run_storage.get_run_records(RunsFilter(run_ids=[run_id]))), None)\n")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """master: dagster 1.13.29's sources at 1!0+dev; my-refactor: get_run_by_id reads the run
    storage itself instead of dispatching to the overridable get_run_record_by_id."""
    path = make_checkout(tmp_path_factory.mktemp("checkout") / "dagster")
    commit_edit(path, "my-refactor", INSTANCE, *EDIT, "get_run_by_id reads the run storage directly")
    return path


def compat(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compat", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=1800, env={**os.environ, "COMPAT_QUIET": "1"})


def test_a_checkout_is_found_in_its_real_layout(repo):
    side = sides.resolve(str(repo))
    paths = side.search_paths
    assert paths[0] == str(repo / "python_modules" / "dagster")
    assert str(repo / "python_modules" / "dagster-pipes") in paths
    assert str(repo / "python_modules" / "libraries" / "dagster-shared") in paths
    assert side.repo_prefix() == "python_modules/dagster/"
    assert side.label == f"my-refactor {git(repo, 'rev-parse', '--short=7', 'HEAD').strip()}"


def test_path_at_rev_is_that_commit_and_leaves_the_repository_alone(repo):
    before = git(repo, "status", "--porcelain"), git(repo, "worktree", "list")
    side = sides.resolve(f"{repo}@master")
    master = git(repo, "rev-parse", "master").strip()
    assert side.spec.commit == master
    assert side.label == f"master {master[:7]}"
    exported = Path(side.spec.tree) / INSTANCE
    assert EDIT[0] in exported.read_text() and EDIT[1] not in exported.read_text()
    assert side.repo_prefix() == "python_modules/dagster/"
    assert (git(repo, "status", "--porcelain"), git(repo, "worktree", "list")) == before
    assert sides.resolve(f"{repo}@master").spec.tree == side.spec.tree  # cached per commit


def test_branch_against_master_names_the_edit_at_a_file_of_the_repository(repo):
    proc = compat("diff", f"{repo}@master", str(repo), "--format", "github")
    assert proc.returncode == 1, proc.stderr
    errors = [ln for ln in proc.stdout.splitlines() if ln.startswith("::error file=")]
    assert len(errors) == 1, proc.stdout
    assert f"file={INSTANCE}," in errors[0] and "get_run_record_by_id" in errors[0]
    line = int(errors[0].split("line=", 1)[1].split(",", 1)[0])
    assert "def get_run_by_id" in (repo / INSTANCE).read_text().splitlines()[line - 1]


def test_master_against_itself_is_compatible(repo):
    proc = compat("diff", f"{repo}@master", f"{repo}@master")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[1].startswith("compatible")


@pytest.fixture(scope="module")
def refactor(tmp_path_factory) -> Path:
    """The refactoring as released: master holds dagster 1.11.4's sources, the branch `refactor`
    commits 1.11.5's and then 1.11.6's (all at 1!0+dev)."""
    return make_refactor_branch(tmp_path_factory.mktemp("refactor") / "dagster")


def _causes(proc: subprocess.CompletedProcess) -> list[dict]:
    return json.loads(proc.stdout)["causes"]


def test_master_against_itself_is_compatible_with_the_real_profiles(refactor):
    """A checkout's `1!0+dev` sorts after every release; the profile of a newer dagster-cloud
    must not make master incompatible with itself (it once named `defs_state_storage`, which
    neither side has)."""
    proc = compat("compare", "--old", ".@master", "--new", ".@master", "--static-only", "--no-witness", cwd=refactor)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[1].startswith("compatible")
    master = git(refactor, "rev-parse", "--short=7", "master").strip()
    assert proc.stdout.splitlines()[0].endswith(f": master {master} -> master {master}"), proc.stdout


def test_master_against_the_unchanged_tree_is_compatible(tmp_path):
    repo = make_checkout(tmp_path / "dagster", "1.11.4")
    proc = compat("compare", "--old", ".@master", "--new", ".", "--static-only", "--no-witness", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_checkout_takes_the_profile_its_code_matches(refactor, repo):
    """`1!0+dev` says nothing about the release; the code does."""
    old = side_surface(sides.resolve(f"{refactor}@master"), "dagster._core.instance:DagsterInstance")
    assert old.generator["dagster"] == "1!0+dev"
    ((path, why),) = _matching_profiles(old)
    assert path.name == "dagster-cloud-1.11.4.json" and "matches best" in why
    new = side_surface(sides.resolve(f"{repo}@master"), "dagster._core.instance:DagsterInstance")
    assert [p.name for p, _ in _matching_profiles(new)] == ["dagster-cloud-1.13.27.json"]


def test_the_branch_report_names_the_causes_of_its_commits_and_no_other(refactor):
    """The branch is 1.11.4 -> 1.11.5 -> 1.11.6 as commits: its causes are those of the same
    releases compared by version, located at the repository's files."""
    branch = compat("compare", "--old", ".@master", "--new", ".", "--static-only", "--no-witness", "--format", "json",
                    cwd=refactor)
    released = compat("compare", "--old", "dagster==1.11.4", "--new", "dagster==1.11.6", "--static-only", "--no-witness",
                      "--format", "json")
    assert branch.returncode == 1 and released.returncode == 1, branch.stderr + released.stderr
    got, want = _causes(branch), _causes(released)
    assert [c["id"] for c in got] == [c["id"] for c in want] and len(got) >= 10
    # (an info cause may count a few more names: the checkout also resolves dagster-shared's)
    assert [c["title"] for c in got if c["severity"] != "info"] == [c["title"] for c in want if c["severity"] != "info"]
    assert "defs_state_storage" not in branch.stdout
    for cause in got:
        if cause["location"]:
            path, _, line = cause["location"].rpartition(":")
            assert path.startswith("python_modules/dagster/dagster/") and (refactor / path).is_file(), cause
            at = (refactor / path).read_text().splitlines()[int(line) - 1].strip()
            assert not at.startswith("@"), (cause["title"], at)  # the class or def, not its decorator
    # the release comparison names the same files without the repository's folders
    assert [c["location"] for c in got] == [
        f"python_modules/dagster/{c['location']}" if c["location"] else c["location"] for c in want]


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.slow  # builds an environment of the checkout and records its cells
def test_one_recording_per_commit_and_master_is_green_in_full(refactor, tmp_path):
    """`compare` records `.@master` once; `baseline --old .@master` reuses that recording, and a
    second `baseline` records nothing; the gate run from that baseline on master's own code
    replays nothing and is green. (The `spy` cells keep this affordable.)"""
    from compat import envs

    recordings = envs.cache_dir() / "recordings"
    full = compat("compare", "--old", ".@master", "--new", ".@master", "--cells", "spy", "-j", "2", cwd=refactor)
    assert full.returncode == 0, full.stdout + full.stderr
    after_compare = sorted(p.name for p in recordings.iterdir())
    out = tmp_path / "base"
    first = compat("baseline", "--old", ".@master", "--out", str(out), "--cells", "spy", cwd=refactor)
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in recordings.iterdir()) == after_compare
    recorded = _tree(out)
    assert "manifest.json" in recorded and any(k.startswith("traces/") for k in recorded)
    # the stored fuzz programs too: the gate from this baseline runs every layer the shipped one does
    assert "fuzz/programs.json" in recorded and json.loads(recorded["fuzz/programs.json"])["programs"]
    second = compat("baseline", "--old", ".@master", "--out", str(out), "--cells", "spy", cwd=refactor)
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in recordings.iterdir()) == after_compare and _tree(out) == recorded
    gate = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "compat", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", "--compat-baseline", str(out),
                           "--compat-python", sides.resolve(f"{refactor}@master").python],
                          capture_output=True, text=True, cwd=refactor, timeout=600)
    assert gate.returncode == 0, gate.stdout[-3000:] + gate.stderr
    assert "replayed 0/" in gate.stdout and "skipped" not in gate.stdout, gate.stdout[-3000:]


@pytest.mark.slow  # builds an environment of a 1.11.4 checkout and records its spy cells
def test_a_module_the_branch_adds_where_no_cell_looked_replays_nothing(tmp_path):
    """1.11.6 adds `dagster/_core/instance/factory.py`, a name the worker's warm list holds (it
    imports the module where a release has one). A branch off 1.11.4 that adds only that file
    replays no cell: the warm list looks for its modules by file, so no worker asked for the name,
    and nothing else imports it."""
    factory = "python_modules/dagster/dagster/_core/instance/factory.py"
    repo = make_refactor_branch(tmp_path / "dagster", "1.11.4", ("1.11.6",), branch="next")
    added = git(repo, "show", f"next:{factory}")
    git(repo, "checkout", "-q", "master")
    git(repo, "checkout", "-q", "-b", "factory")
    (repo / factory).write_text(added)
    git(repo, "add", factory)
    git(repo, "commit", "-q", "-m", "add the instance factory module")
    proc = compat("compare", "--old", ".@master", "--new", ".@factory", "--cells", "spy", "-j", "2",
                  "--format", "json", "--fail-on", "never", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    replay = json.loads(proc.stdout)["replay"]
    assert replay["cells_replayed"] == 0 and replay["cells_total"] > 0, replay
    assert "dagster/_core/instance/factory.py" in replay["reason"], replay


@pytest.mark.slow  # builds a venv of a 1.11.4 checkout and records a baseline from it
def test_the_recipe_gate_on_unchanged_master_replays_nothing(tmp_path):
    """The recipe word for word: a `uv venv` (no pip) holding the checkout editable, the harness
    and a linter; a baseline recorded from `.@master`; the gate run from the unchanged checkout.
    The venv's own tools (pytest, griffe's colorama, the linter) are in the environment the
    baseline was recorded in too, so no cell is replayed."""
    from compat import envs

    repo = make_checkout(tmp_path / "dagster", "1.11.4")
    venv = tmp_path / "compat-venv"
    uv = envs.uv_bin()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, capture_output=True)
    py = str(venv / "bin" / "python")
    editable = [a for d in ("python_modules/dagster-pipes", "python_modules/libraries/dagster-shared",
                            "python_modules/dagster") for a in ("-e", d)]
    proc = subprocess.run([uv, "pip", "install", "-q", "--python", py, *editable, "-e", str(ROOT), "pyflakes"],
                          capture_output=True, text=True, cwd=repo, timeout=900)
    assert proc.returncode == 0, proc.stderr
    env = {**os.environ, "COMPAT_QUIET": "1"}
    base = tmp_path / "compat-baseline"
    proc = subprocess.run([str(venv / "bin" / "compat"), "baseline", "--old", ".@master", "--out", str(base),
                           "--cells", "spy", "-j", "2"], capture_output=True, text=True, cwd=repo, env=env,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr
    gate = subprocess.run([py, "-m", "pytest", "--pyargs", "compat", "-q", "-p", "no:cacheprovider",
                           "--compat-baseline", str(base)], capture_output=True, text=True, cwd=repo, env=env,
                          timeout=1800)
    assert gate.returncode == 0, gate.stdout[-3000:] + gate.stderr
    line = next(ln for ln in gate.stdout.splitlines() if "replayed" in ln)
    assert "replayed 0/" in line, line


@pytest.mark.parametrize("spec, message", [
    ("{repo}@no-such-branch", "no such revision"),
    ("{repo}@--all", "not a git revision"),
    ("{tmp}@master", "not a git repository"),
])
def test_bad_revisions_are_one_line_errors(repo, tmp_path, spec, message):
    proc = compat("snapshot", "--path", spec.format(repo=repo, tmp=tmp_path))
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_any_tree_with_any_target(tmp_path):
    pkg = tmp_path / "tree" / "src" / "toypkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("class Base:\n    def run(self, key: str) -> None:\n        self._hook(key)\n\n"
                                "    def _hook(self, key):\n        pass\n")
    out = tmp_path / "surface.json"
    proc = compat("snapshot", "--path", str(tmp_path / "tree"), "--target", "toypkg.mod:Base", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    members = json.loads(out.read_text())["members"]
    assert {"run", "_hook"} <= set(members)
    proc = compat("snapshot", "--path", str(tmp_path / "tree"), "--target", "otherpkg.mod:Base")
    assert proc.returncode == 2 and "no `otherpkg` package" in proc.stderr


def test_the_gate_runs_as_an_installed_plugin_from_another_project(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.compat]\nbehaviour = false\n')
    (project / "test_own.py").write_text("def test_own():\n    assert True\n")
    run = lambda *a: subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *a],
                                    capture_output=True, text=True, cwd=project, timeout=600)
    own = run("--compat-baseline", str(tmp_path / "missing"))  # options known, gate inert
    assert own.returncode == 0 and "1 passed" in own.stdout, own.stdout + own.stderr
    gate = run("--pyargs", "compat")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "passed" in gate.stdout and "failed" not in gate.stdout
    part = run("--pyargs", "compat", "-k", "test_member and create_run")  # a partial run is never green
    assert part.returncode == 1 and "deselected" in part.stdout, part.stdout + part.stderr
    assert re.search(r"^compat: incomplete: 2 of \d+ units ran", part.stdout, re.M), part.stdout
    bad = run("--pyargs", "compat", "--compat-baseline", str(tmp_path / "missing"))
    assert bad.returncode == 4 and "INTERNALERROR" not in bad.stdout + bad.stderr
    assert "compat:" in bad.stderr and len([ln for ln in bad.stderr.splitlines() if ln.strip()]) == 1, bad.stderr


def _manifest(path: Path, dagster: str) -> None:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"schema": "compat.baseline", "schema_version": 1,
                                                    "generator": {"dagster": dagster}}))


def test_the_default_baseline_is_the_one_recorded_on_the_installed_dagster(tmp_path):
    from importlib.metadata import version

    installed = version("dagster")
    _manifest(tmp_path / "snapshots" / "baseline", "1.11.4")
    _manifest(tmp_path / "snapshots" / f"baseline-{installed}", installed)
    assert default_baseline(tmp_path, None) == tmp_path / "snapshots" / f"baseline-{installed}"
    # a project without a baseline of its own takes the harness's shipped one, which matches
    assert default_baseline(tmp_path / "bare", None) == ROOT / "snapshots" / "baseline"
    # a project whose own baseline is of another dagster is refused, never swapped for the shipped one
    other = tmp_path / "other"
    _manifest(other / "snapshots" / "baseline", "1.11.4")
    with pytest.raises(CompatError, match=f"no baseline recorded on dagster {re.escape(installed)} .*is dagster 1.11.4"):
        default_baseline(other, None)


def test_no_matching_baseline_says_how_to_record_one(tmp_path, monkeypatch):
    import compat.gate.gate as gate_mod

    _manifest(tmp_path / "snapshots" / "baseline", "1.11.4")
    monkeypatch.setattr(gate_mod, "PROJECT_ROOT", tmp_path)
    with pytest.raises(CompatError) as info:
        default_baseline(tmp_path, None)
    text = str(info.value)
    assert "\n" not in text and "is dagster 1.11.4" in text and "compat baseline --old SPEC" in text


def test_a_baseline_on_the_command_line_is_relative_to_where_pytest_started(tmp_path):
    from compat.gate.gate import Settings

    project, cwd = tmp_path / "project", tmp_path / "project" / "sub"
    cwd.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.compat]\nreport = "r.md"\n')
    s = Settings.resolve({"baseline": "../base", "python": sys.executable}, project, cwd)
    assert s.baseline == cwd / "../base" and s.report == Path("r.md")
    (project / "pyproject.toml").write_text('[tool.compat]\nbaseline = "base"\n')
    assert Settings.resolve({"python": sys.executable}, project, cwd).baseline == project / "base"


def test_gate_failures_name_repository_files_on_both_sides():
    """A gate run from a checkout names the baseline's file and the checked file by their place
    in the repository; a subclass package's location is left as it is."""
    from compat.gate.gate import explain
    from compat.model.findings import Finding

    moved = Finding("member-moved", "info", "subclasses", "get_run_by_id", "moved", old="def get_run_by_id(self)",
                    new="def get_run_by_id(self)", old_location="dagster/_core/instance/__init__.py:488",
                    new_location="dagster/_core/instance/methods/run_methods.py:120")
    profile = Finding("override-bypassed", "breaking", "subclasses", "Cloud.launcher", "bypassed",
                      old="property launcher", old_location="dagster_cloud/instance/__init__.py:60", source="profile")
    text = explain([moved, profile], "python_modules/dagster/", "dagster")
    assert "(python_modules/dagster/dagster/_core/instance/__init__.py:488)" in text
    assert "(python_modules/dagster/dagster/_core/instance/methods/run_methods.py:120)" in text
    assert "(dagster_cloud/instance/__init__.py:60)" in text
    assert explain([moved]) == explain([moved], "", "dagster") and "(dagster/_core/instance/__init__.py:488)" in explain([moved])

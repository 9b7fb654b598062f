"""The harness in a dagster repository's CI and hooks: the composite GitHub Action at the
repository root and the workflow example, both checked by actionlint; the pre-commit hooks run
by the real pre-commit (`try-repo`) on a checkout in dagster's layout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from checkout import commit_edit, git, make_checkout
from compat.envs import cache_dir

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ACTION = ROOT / "action.yml"
EXAMPLE = ROOT / "docs" / "users" / "examples" / "compat.yml"
DOC = ROOT / "docs" / "users" / "ci.md"
INSTANCE = "python_modules/dagster/dagster/_core/instance/instance.py"
EDIT = ("        record = self.get_run_record_by_id(run_id)\n",
        "        record = next(iter(self._run_storage.get_run_records(RunsFilter(run_ids=[run_id]))), None)\n")


def actionlint(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "actionlint"), "-color=false"], capture_output=True, text=True, cwd=repo,
                          timeout=120)


def workflow_repo(tmp_path: Path, action: str, workflow: str) -> Path:
    """A repository holding the action at its root and the example workflow using it as `./`,
    so that actionlint checks the workflow, the action's metadata and the inputs it is given."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "action.yml").write_text(action)
    (repo / ".github" / "workflows" / "compat.yml").write_text(workflow.replace("OWNER/compat@main", "./"))
    git(repo, "init", "-q")
    return repo


def test_actionlint_passes_the_action_and_the_workflow_example(tmp_path):
    assert "OWNER/compat@main" in EXAMPLE.read_text()
    proc = actionlint(workflow_repo(tmp_path, ACTION.read_text(), EXAMPLE.read_text()))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_sees_a_broken_action_or_workflow(tmp_path):
    """The check above could fail: an input the action does not declare, a step key it does not
    know, a workflow without a trigger."""
    bad_input = EXAMPLE.read_text().replace("fail-on: breaking", "fail-when: breaking")
    proc = actionlint(workflow_repo(tmp_path / "a", ACTION.read_text(), bad_input))
    assert proc.returncode == 1 and 'input "fail-when" is not defined' in proc.stdout
    bad_step = ACTION.read_text().replace("      shell: bash\n", "      shel: bash\n", 1)
    proc = actionlint(workflow_repo(tmp_path / "b", bad_step, EXAMPLE.read_text()))
    assert proc.returncode == 1 and 'unexpected key "shel"' in proc.stdout
    no_trigger = re.sub(r"\non:\n(  .*\n)+", "\n", EXAMPLE.read_text())
    proc = actionlint(workflow_repo(tmp_path / "c", ACTION.read_text(), no_trigger))
    assert proc.returncode == 1 and '"on" section is missing' in proc.stdout


def test_the_action_refers_only_to_what_it_declares():
    """actionlint reads an action's expressions without checking the names in them: every
    `inputs.X` is declared and every `steps.ID` is an earlier step of the action."""
    action = yaml.safe_load(ACTION.read_text())
    text = ACTION.read_text()
    assert set(re.findall(r"inputs\.([\w-]+)", text)) <= set(action["inputs"])
    ids: list[str] = []
    for step in action["runs"]["steps"]:
        used = set(re.findall(r"steps\.([\w-]+)\.", yaml.safe_dump(step)))
        assert used <= set(ids), (step.get("name"), used - set(ids))
        if "id" in step:
            ids.append(step["id"])
    for output in action["outputs"].values():
        assert set(re.findall(r"steps\.([\w-]+)\.", output["value"])) <= set(ids)


def test_the_workflow_example_is_what_a_pull_request_needs():
    flow = yaml.safe_load(EXAMPLE.read_text())
    assert list(flow[True]) == ["pull_request"]  # YAML 1.1 reads the key `on` as True
    assert flow["permissions"]["pull-requests"] == "write"
    steps = flow["jobs"]["compat"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@") and steps[0]["with"]["fetch-depth"] == 0
    assert steps[1]["uses"] == "OWNER/compat@main"
    action = yaml.safe_load(ACTION.read_text())
    uses = [s.get("uses", "") for s in action["runs"]["steps"]]
    # the cache restored and saved on the base commit; the report to the summary and one comment
    assert any(u.startswith("actions/cache/restore@") for u in uses) and any(u.startswith("actions/cache/save@") for u in uses)
    assert "github.event.pull_request.base.sha" in ACTION.read_text()
    assert "GITHUB_STEP_SUMMARY" in ACTION.read_text() and "PATCH" in ACTION.read_text()
    assert "--annotations" in ACTION.read_text()
    # the doc shows the example as it is shipped
    assert EXAMPLE.read_text().strip() in DOC.read_text()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A dagster checkout in the real layout: master holds 1.13.29's sources, my-refactor an edit
    that stops dispatching to an overridable method."""
    repo = make_checkout(tmp_path_factory.mktemp("precommit") / "dagster")
    commit_edit(repo, "my-refactor", INSTANCE, *EDIT, "get_run_by_id reads the run storage directly")
    return repo


def try_repo(checkout: Path, hook: str, home: Path) -> subprocess.CompletedProcess:
    home.mkdir(parents=True, exist_ok=True)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PRE_COMMIT", "VIRTUAL_ENV"))},
           "HOME": str(home), "PRE_COMMIT_HOME": str(home / "pre-commit"), "COMPAT_QUIET": "1",
           # a hook environment's wheels are kept with the harness's own cache
           "PIP_CACHE_DIR": str(cache_dir() / "pip"),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(BIN / "pre-commit"), "try-repo", str(ROOT), hook, "--all-files", "--verbose"],
                          capture_output=True, text=True, cwd=checkout, env=env, timeout=1800)


def test_precommit_hook_with_the_installed_harness_on_a_checkout(checkout, tmp_path):
    """`compat-installed` runs the compat on PATH (the venv the harness is installed in): red on
    the refactoring branch, naming the edit at a file of the repository; green on master."""
    git(checkout, "checkout", "-q", "my-refactor")
    red = try_repo(checkout, "compat-installed", tmp_path / "home")
    out = red.stdout + red.stderr
    assert red.returncode == 1, out
    assert "incompatible: 1 cause (1 breaking)" in out and f"at {INSTANCE}:" in out
    assert "get_run_record_by_id" in out and "No such file" not in out
    git(checkout, "checkout", "-q", "master")
    try:
        green = try_repo(checkout, "compat-installed", tmp_path / "home")
    finally:
        git(checkout, "checkout", "-q", "my-refactor")
    assert green.returncode == 0, green.stdout + green.stderr
    assert "Passed" in green.stdout


def test_precommit_hook_that_installs_the_harness_itself(checkout, tmp_path):
    """`compat`: pre-commit builds the hook's environment from this repository (pip, from the
    package index) and runs it in the checkout; nothing of the harness's own layout is assumed."""
    git(checkout, "checkout", "-q", "my-refactor")
    proc = try_repo(checkout, "compat", tmp_path / "home")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert "incompatible: 1 cause (1 breaking)" in out and f"at {INSTANCE}:" in out
    assert "Installing environment for" in out  # its own environment, not the test's venv


def test_the_hooks_manifest_names_no_path_of_the_harness_repository():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["compat", "compat-installed"]
    for h in hooks:
        assert not re.search(r"\.venv|compat/|/bin/", h["entry"]) and h["pass_filenames"] is False
        assert h["files"].startswith("^python_modules/")
    assert shutil.which("compat", path=str(BIN))

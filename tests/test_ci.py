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


def _steps() -> dict[str, dict]:
    action = yaml.safe_load(ACTION.read_text())
    return {s.get("id") or s.get("name") or s["uses"]: s for s in action["runs"]["steps"]}


def test_every_script_of_the_action_is_valid_bash():
    """actionlint checks a composite action's keys, not its scripts: bash parses each one."""
    scripts = [s["run"] for s in _steps().values() if "run" in s]
    assert len(scripts) >= 5
    for script in scripts:
        proc = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr + script


def _run_step(step: dict, env: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """A step's script as the runner runs it (`bash -e`), with GITHUB_OUTPUT a file."""
    out = tmp_path / "github_output"
    out.write_text("")
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(out), "RUNNER_TEMP": str(tmp_path),
                               **env})
    return proc, dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)


def test_the_base_commit_step_names_the_pull_requests_base(tmp_path):
    step = _steps()["base"]
    proc, outputs = _run_step(step, {"OLD": "", "BASE_SHA": "a" * 40}, tmp_path)
    assert proc.returncode == 0 and outputs["spec"] == ".@" + "a" * 40
    assert re.fullmatch(r"[0-9a-f]{16}", outputs["key"])
    proc, chosen = _run_step(step, {"OLD": "dagster==1.11.4", "BASE_SHA": "a" * 40}, tmp_path)
    assert chosen["spec"] == "dagster==1.11.4" and chosen["key"] != outputs["key"]
    proc, _ = _run_step(step, {"OLD": "", "BASE_SHA": ""}, tmp_path)  # a push, not a pull request
    assert proc.returncode == 2 and proc.stdout.startswith("::error title=compat::no base commit")


def test_the_verdict_step_fails_the_job_with_compats_exit_code(tmp_path):
    step = _steps()["Verdict"]
    for code in ("0", "1", "2"):
        proc, _ = _run_step(step, {"CODE": code, "VERDICT": "incompatible: 1 cause (1 breaking)"}, tmp_path)
        assert proc.returncode == int(code) and proc.stdout.startswith("incompatible: ")
    proc, _ = _run_step(step, {"CODE": "", "VERDICT": ""}, tmp_path)  # compat never ran
    assert proc.returncode == 2


def test_the_compare_step_hands_a_harness_error_to_the_verdict_step(tmp_path):
    """The real compat behind the step: a SPEC it cannot read is exit 2 in the step's outputs
    (the job then fails in the verdict step, after the summary and comment steps had their say),
    never a crash of the step itself."""
    env = {"OLD": str(tmp_path / "no-such-side"), "NEW": ".", "JOBS": "1", "FAIL_ON": "breaking",
           "STATIC_ONLY": "true", "REPORT": "compat-report.md", "COMPAT_QUIET": "1",
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    proc, outputs = _run_step(_steps()["compare"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert outputs["exit-code"] == "2" and outputs["report"] == "compat-report.md"
    assert outputs["verdict"] == "compat could not run (exit 2), see the log of this step"
    assert "no-such-side" in proc.stderr and "Traceback" not in proc.stderr


def _yaml_blocks(path: Path) -> list[str]:
    from markdown_it import MarkdownIt

    return [t.content for t in MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
            if t.type == "fence" and t.info.strip() == "yaml"]


def test_actionlint_passes_the_ecosystem_matrix_example(tmp_path):
    """The sharded ecosystem workflow of the ecosystem guide: a matrix of shards, then the merge."""
    [workflow] = [b for b in _yaml_blocks(ROOT / "docs" / "users" / "ecosystem.md") if "matrix:" in b]
    assert "--shard \"${{ matrix.shard }}/4\"" in workflow and "compat merge" in workflow
    repo = workflow_repo(tmp_path / "ok", ACTION.read_text(), workflow)
    proc = actionlint(repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # near miss: a matrix value the job does not declare is caught
    broken = workflow.replace("${{ matrix.shard }}.json", "${{ matrix.part }}.json", 1)
    proc = actionlint(workflow_repo(tmp_path / "bad", ACTION.read_text(), broken))
    assert proc.returncode == 1 and "part" in proc.stdout

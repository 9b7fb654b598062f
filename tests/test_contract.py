"""`compat contract`: the subclass contract written from a baseline, and its change between two."""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.cli import main
from compat.baseline import Baseline
from compat.tools.contract import contract, diff

ROOT = Path(__file__).resolve().parent.parent
NEW, OLD = ROOT / "snapshots" / "baseline", ROOT / "snapshots" / "baseline-1.11.4"


@pytest.fixture(scope="module")
def new() -> str:
    return contract(Baseline(NEW))


@pytest.fixture(scope="module")
def old() -> str:
    return contract(Baseline(OLD))


def _row(text: str, member: str) -> str:
    return next((ln for ln in text.splitlines() if ln.startswith(f"| `{member}` |")), "")


def test_the_shipped_contract_is_generated_from_the_default_baseline(new):
    assert (ROOT / "docs" / "contract.md").read_text(encoding="utf-8") == new, (
        "docs/contract.md is stale: compat contract --baseline snapshots/baseline -o docs/contract.md")


def test_the_shipped_diff_is_the_change_of_contract_since_1_11_4(old, new):
    shipped = (ROOT / "snapshots" / "reports" / "contract-1.11.4-to-1.13.29.diff").read_text(encoding="utf-8")
    assert shipped == diff(old, new,
                           f"{OLD.relative_to(ROOT)} (contract)", f"{NEW.relative_to(ROOT)} (contract)")


def test_the_hook_table_names_the_dispatching_methods_statically_and_as_observed(old, new):
    row = _row(old, "create_run")
    # 1.11.4: create_run_for_job dispatches to create_run, seen in the body and in the traces
    assert "`create_run_for_job`" in row and "`create_run_for_job` (DagsterInstance)" in row
    assert "corpus CreateRunTagsInstance" in row
    assert _row(new, "create_run") == ""  # no base method reaches it any more ...
    assert "- `create_run`: corpus CreateRunTagsInstance" in new  # ... though a subclass overrides it


def test_constructor_and_clash_sections_come_from_the_profiles(old, new):
    assert "The base accepts `**_kwargs`" in new
    assert "| dagster-cloud | `DagsterCloudAgentInstance` | yes | `*args` and `**kwargs` |" in old
    assert "`dagster_cloud_api`, `isolated_agents`, `opentelemetry`, `user_code_launcher` |" in old  # its yaml keys
    # dagster-cloud 1.11.4 keeps its own exit stack, a name the base of 1.11.4 does not take
    assert "| `_exit_stack` | corpus ExitStackOwnerInstance, dagster-cloud DagsterCloudAgentInstance | free |" in old


def test_cli_contract_and_against(tmp_path, capsys, new):
    out = tmp_path / "c.md"
    assert main(["contract", "--baseline", str(NEW), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == new
    assert main(["contract", "--baseline", str(NEW), "--against", str(NEW)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["contract", "--baseline", str(NEW), "--against", str(OLD)]) == 1
    assert "-| `create_run` |" in capsys.readouterr().out
    assert main(["contract", "--baseline", str(tmp_path / "missing")]) == 2

"""`compat bisect`: the first release in a range where a finding appears, from wheel surfaces."""

from __future__ import annotations

import pytest

from compat.tools.bisect import bisect, released_versions, render
from compat.model.errors import CompatError
from compat.static.extract import DEFAULT_TARGET


def test_releases_are_listed_oldest_first():
    versions = released_versions()
    assert versions.index("1.11.4") < versions.index("1.11.5") < versions.index("1.11.6")


def test_finds_the_release_that_stopped_calling_create_run():
    located = bisect("1.11.4", "1.11.8", target=DEFAULT_TARGET, rule="hook-no-longer-called",
                     member="create_run_for_job")
    assert [(x.first_version, x.rule, x.member) for x in located] == [
        ("1.11.5", "hook-no-longer-called", "create_run_for_job")]
    assert "1.11.5" in render(located, "1.11.4", "1.11.8")


def test_instance_attribute_by_bare_name():
    located = bisect("1.11.6", "1.11.12", target=DEFAULT_TARGET, member="_exit_stack")
    assert [(x.first_version, x.member) for x in located] == [("1.11.10", "self._exit_stack")]


def test_nothing_to_bisect_is_a_harness_error():
    with pytest.raises(CompatError, match="nothing to bisect"):
        bisect("1.11.6", "1.11.8", target=DEFAULT_TARGET, member="no_such_member")


def test_releases_and_downstream_wheels_need_no_pip_in_the_harness_venv(tmp_path, monkeypatch):
    """The recipe's `uv venv` has no pip: listing releases and fetching a downstream wheel run
    pip through uv, never as the harness interpreter's `-m pip`."""
    import subprocess
    import sys

    from compat import downstream, envs

    subprocess.run([envs.uv_bin(), "venv", "-q", str(tmp_path / "venv")], check=True, capture_output=True)
    unseeded = str(tmp_path / "venv" / "bin" / "python")
    assert subprocess.run([unseeded, "-m", "pip", "--version"], capture_output=True).returncode != 0
    monkeypatch.setattr(sys, "executable", unseeded)
    monkeypatch.setenv("COMPAT_CACHE_DIR", str(tmp_path / "cache"))
    assert "1.11.4" in released_versions()
    wheel = downstream.fetch("dagster-postgres", "1.11.4")
    assert wheel.version == "0.27.4" and (wheel.tree / "dagster_postgres").is_dir()

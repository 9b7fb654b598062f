"""Sides: every command resolves OLD/NEW, --python, --dagster-version and --path the same way."""

from __future__ import annotations

import sys
from importlib.metadata import version

import pytest

from compat import sides
from compat.model.errors import CompatError


def test_installed_is_named_by_its_version_not_installed():
    side = sides.resolve("installed")
    assert side.installed and side.label == f"dagster {version('dagster')}"
    assert sides.resolve(None).installed and sides.from_options().installed
    assert side.python == sys.executable


def test_released_versions_and_interpreters():
    assert sides.resolve("dagster==1.11.4").label == "dagster==1.11.4"
    assert sides.resolve("1.11.4").spec.version == "1.11.4"
    side = sides.from_options(python=sys.executable)
    assert side.spec.python == sys.executable and side.source == "python"
    assert any("site-packages" in p for p in side.search_paths)


@pytest.mark.parametrize("options", [
    {"python": sys.executable, "dagster_version": "1.11.4"},
    {"dagster_version": ""},
    {"dagster_version": "1.11.4\n"},
    {"path": "/nonexistent/compat-tree"},
])
def test_bad_options_are_one_line_errors(options):
    with pytest.raises(CompatError) as info:
        sides.from_options(**options)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["", "   ", "not-a-spec", "dagster==x.y"])
def test_bad_specs_are_one_line_errors(text):
    with pytest.raises(CompatError) as info:
        sides.resolve(text)
    assert "\n" not in str(info.value)


def test_a_source_tree_is_a_side(tmp_path):
    pkg = tmp_path / "python_modules" / "dagster" / "dagster"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    side = sides.from_options(path=str(tmp_path))
    assert side.spec.tree == str(tmp_path.resolve())
    assert side.search_paths[0] == str(tmp_path / "python_modules" / "dagster")


def test_a_bare_revision_suggests_the_checkout_at_that_revision(tmp_path, monkeypatch):
    """`compare --old master` inside a dagster checkout means `.@master`: the error says so."""
    import subprocess

    env = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@example.com", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q", "-b", "master"], ["commit", "-q", "--allow-empty", "-m", "first"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True, env=env)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CompatError) as info:
        sides.resolve("master")
    text = str(info.value)
    assert "\n" not in text and "not a SPEC" in text and "`.@master`" in text
    with pytest.raises(CompatError) as info:
        sides.resolve("no-such-branch")
    assert ".@" not in str(info.value).split("(")[0]

"""A dagster checkout in the repository's real layout, built from a release's wheels.

dagster's own repository keeps `python_modules/dagster`, `python_modules/dagster-pipes` and
`python_modules/libraries/dagster-shared`, each a distribution at version `1!0+dev` that pins
its siblings to nothing. Tests that need "a maintainer's checkout" build one here from the
released sources (one commit on `master`), so they exercise the same paths, versions and git
history a maintainer has, without a network clone.
"""

from __future__ import annotations

import email.parser
import re
import shutil
import subprocess
from pathlib import Path

from compat.envs import wheel_tree

DEV_VERSION = "1!0+dev"
LAYOUT = {  # distribution -> (directory in the repository, importable package)
    "dagster": ("python_modules/dagster", "dagster"),
    "dagster-pipes": ("python_modules/dagster-pipes", "dagster_pipes"),
    "dagster-shared": ("python_modules/libraries/dagster-shared", "dagster_shared"),
}


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z", "PATH": "/usr/bin:/bin:/usr/local/bin",
           "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def _requirements(dist_info: Path) -> list[str]:
    meta = email.parser.Parser().parsestr((dist_info / "METADATA").read_text())
    out = []
    for req in meta.get_all("Requires-Dist") or []:
        if "extra ==" in req:
            continue
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0)
        out.append(name if name in LAYOUT else req)  # siblings unpinned, as on dagster's master
    return out


def lay_out(dest: Path, version: str) -> None:
    """`dest`'s three distributions become dagster `version`'s sources at `1!0+dev`."""
    for dist, (where, package) in LAYOUT.items():
        tree = wheel_tree(version, dist)
        root = dest / where
        shutil.rmtree(root / package, ignore_errors=True)
        shutil.copytree(tree / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
        (dist_info,) = tree.glob(f"{package}-*.dist-info")
        deps = ",\n".join(f"    {r!r}" for r in _requirements(dist_info))
        (root / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{dist}"\nversion = "{DEV_VERSION}"\nrequires-python = ">=3.10"\n'
            f"dependencies = [\n{deps}\n]\n\n"
            f'[tool.setuptools.packages.find]\ninclude = ["{package}*"]\n\n'
            f'[tool.setuptools.package-data]\n"*" = ["*"]\n'
        )
        version_py = root / package / "version.py"
        if version_py.exists():
            version_py.write_text(f'__version__ = "{DEV_VERSION}"\n')


def make_checkout(dest: Path, version: str = "1.13.29") -> Path:
    """`dest` becomes a git repository holding dagster `version`'s sources at `1!0+dev`."""
    lay_out(dest, version)
    git(dest, "init", "-q", "-b", "master")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", f"dagster {version} sources at {DEV_VERSION}")
    return dest


def make_refactor_branch(dest: Path, master: str = "1.11.4", commits: tuple[str, ...] = ("1.11.5", "1.11.6"),
                         branch: str = "refactor") -> Path:
    """The refactoring as a maintainer has it: `master` holds release `master`'s sources, and
    `branch` commits each of `commits` in turn on top (left checked out)."""
    make_checkout(dest, master)
    git(dest, "checkout", "-q", "-b", branch)
    for version in commits:
        lay_out(dest, version)
        git(dest, "add", "-A")
        git(dest, "commit", "-q", "-m", f"dagster {version} sources at {DEV_VERSION}")
    return dest


def commit_edit(repo: Path, branch: str, rel: str, old: str, new: str, message: str) -> None:
    """A branch `branch` off the current HEAD with one textual edit of `rel` committed."""
    git(repo, "checkout", "-q", "-b", branch)
    path = repo / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))
    git(repo, "commit", "-q", "-am", message)

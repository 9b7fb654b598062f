"""A dagster checkout in the repository's real layout, built from a release's sdists.

dagster's own repository keeps `python_modules/dagster`, `python_modules/dagster-pipes` and
`python_modules/libraries/dagster-shared`, each a distribution whose `setup.py` reads its
`version.py`; at version `1!0+dev` it pins its siblings to nothing. A release's sdist holds that
directory as the repository has it (setup.py, setup.cfg, MANIFEST.in, the package tree), so tests
that need "a maintainer's checkout" build one here from the released sdists (one commit each),
with every `version.py` at `1!0+dev`: the same paths, build files, versions and git history a
maintainer has, without a network clone. Sdists are fetched once into the harness's cache.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

from compat.envs import build_once, cache_dir, pip_command, uv_environ

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


def sdist_tree(version: str, dist: str) -> Path:
    """The unpacked sdist of `dist==version` (its top folder: setup.py and the package), cached."""

    def fill(tmp: Path) -> str:
        proc = subprocess.run([*pip_command(), "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                               "--disable-pip-version-check", "--dest", str(tmp), f"{dist}=={version}"],
                              capture_output=True, text=True, timeout=900, env=uv_environ())
        assert proc.returncode == 0, proc.stderr
        (archive,) = tmp.glob("*.tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        archive.unlink()
        return f"{dist}=={version}\n"

    root = build_once(cache_dir() / "sdists" / f"{dist}-{version}", f"sdist-{dist}-{version}", fill)
    (top,) = [p for p in root.iterdir() if p.is_dir()]
    return top


def _build_output(_: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "PKG-INFO" or n.endswith(".egg-info") or n == "__pycache__"]


def lay_out(dest: Path, version: str) -> None:
    """`dest`'s three distributions become dagster `version`'s sdists at `1!0+dev`. A release
    writes its version and its siblings' pins into the build files; the repository has them at
    `1!0+dev` and unpinned: a `setup.py` (1.11) reads `version.py` and writes
    `f"dagster-pipes{pin}"`, a `pyproject.toml` (1.13) names its version and its siblings."""
    for dist, (where, package) in LAYOUT.items():
        root = dest / where
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(sdist_tree(version, dist), root, ignore=_build_output)
        version_py = root / package / "version.py"
        if version_py.exists():
            version_py.write_text(f'__version__ = "{DEV_VERSION}"\n')
        for name in ("setup.py", "pyproject.toml"):
            build = root / name
            if not build.exists():
                continue
            text = build.read_text()
            for sibling in LAYOUT:
                unpinned = f'f"{sibling}{{pin}}"' if name == "setup.py" else f'"{sibling}"'
                text = text.replace(f'"{sibling}=={version}"', unpinned)
            text = text.replace(f'version = "{version}"', f'version = "{DEV_VERSION}"')
            assert f"=={version}" not in text and f'"{version}"' not in text, f"{dist} {version}: {name} unknown"
            build.write_text(text)


def make_checkout(dest: Path, version: str = "1.13.29") -> Path:
    """`dest` becomes a git repository holding dagster `version`'s sources at `1!0+dev`."""
    lay_out(dest, version)
    (dest / ".gitignore").write_text("*.egg-info/\n__pycache__/\n")  # what an editable install writes
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

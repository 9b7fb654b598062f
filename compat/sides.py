"""Sides: what is compared, resolved once into where to read its sources and what to run it with.

A side is the dagster this interpreter imports (``installed``), a released version
(``dagster==X``), another interpreter, a source tree, or a git checkout at a revision
(``PATH@REV``, see :func:`compat.envs.checkout_spec`). Every command takes its
sides through :func:`resolve`, so ``--old``/``--new``, ``compat diff OLD NEW``, ``--python``,
``--dagster-version`` and ``--path`` mean the same everywhere; the environments behind a side
are built lazily (a static check never builds one) and cached (see :mod:`compat.envs`).
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from compat import envs
from compat.model.errors import CompatError

INSTALLED = "installed"


@dataclass
class Side:
    text: str
    spec: envs.Spec | None = None  # None: the dagster this interpreter imports
    package: str = "dagster"  # the target's top-level package, looked for in a source tree

    @property
    def installed(self) -> bool:
        return self.spec is None

    @cached_property
    def label(self) -> str:
        """The side named by what it is: `dagster 1.13.29`, `dagster==1.11.4`, a revision of a
        checkout by its name and commit (`master ed3f0ad`), a working tree by its branch and
        commit (`refactor 621a1e4+dirty`), so a checkout's report header names the two commits."""
        if self.spec is None:
            try:
                return f"dagster {version('dagster')}"
            except PackageNotFoundError:
                return "dagster (not installed)"
        if self.spec.tree and not self.spec.commit:
            where = envs.git_state(Path(self.spec.tree))
            return where or self.text
        return self.spec.label

    @property
    def source(self) -> str:
        """How the surface was read, as recorded in its generator block."""
        if self.spec is None:
            return INSTALLED
        if self.spec.version or self.spec.commit:
            return self.spec.label
        return "python" if self.spec.python else "spec"

    @cached_property
    def search_paths(self) -> list[str]:
        """Where static loading finds this side's dagster (no environment is built)."""

        if self.spec is None:
            return envs.installed_search_paths()
        if self.spec.tree:
            return envs.tree_search_paths(Path(self.spec.tree), self.package)
        return envs.search_paths_for(self.spec)

    @cached_property
    def python(self) -> str:
        """An interpreter whose `import dagster` is this side's (built and cached if needed)."""
        return sys.executable if self.spec is None else envs.python_for(self.spec)

    def repo_prefix(self) -> str:
        """What to put before a package-relative path (`dagster/_core/...`) to name the file in
        its repository: `python_modules/dagster/` for a dagster checkout (a tree, `PATH@REV`, or
        an editable install of one); nothing for a wheel, whose repository is unknown."""
        for root in self.search_paths:
            path = Path(root)
            if not (path / self.package).is_dir() or "site-packages" in path.parts:
                continue
            top = envs.repo_root(path)
            if top is None:
                return ""
            rel = path.relative_to(top).as_posix()
            return "" if rel == "." else rel + "/"
        return ""

    def content_digest(self) -> str:
        """What this side's code is, for caches: a release or a commit by name, anything else
        (a working tree, an interpreter, the installed dagster) by the bytes of its packages."""
        if self.spec is not None and self.spec.version:
            return f"dagster=={self.spec.version}"
        if self.spec is not None and self.spec.commit:
            return f"commit {self.spec.commit}"
        names = {self.package} | ({"dagster_shared", "dagster_pipes"} if self.package == "dagster" else set())
        h = hashlib.sha256()
        for root in self.search_paths:
            for name in sorted(names):
                if (Path(root) / name).is_dir():
                    envs.sources_digest(h, Path(root), Path(root) / name)
        return h.hexdigest()


def _package(target: str | None) -> str:
    return (target or "dagster").partition(":")[0].split(".")[0] or "dagster"


def resolve(text: str | None, target: str | None = None) -> Side:
    """A SPEC (see :data:`compat.envs.SPEC_HELP`) or `installed`/None; `target` says which
    package a source tree must hold."""
    if text is None or text == INSTALLED:
        return Side(INSTALLED, package=_package(target))
    if not isinstance(text, str) or not text.strip():
        raise CompatError(f"empty SPEC ({envs.SPEC_HELP})")
    side = Side(text, envs.parse_spec(text), package=_package(target))
    if side.spec is not None and side.spec.tree:
        envs.tree_search_paths(Path(side.spec.tree), side.package)  # a tree without the package fails here
    return side


def recorded_side(surface, what: str = "the baseline") -> Side:
    """The released dagster a recorded surface was taken from, as a side that can run (its
    environment built once by uv): the old side of a baseline's witnesses."""
    version = (surface.generator or {}).get("dagster") or ""
    if not envs.VERSION_RE.fullmatch(str(version)):
        raise CompatError(f"{what} was recorded from dagster {version or '(unknown)'}, not a release: witnesses need "
                          f"an old side that can run (use `compat compare --old SPEC --new SPEC`)")
    return Side(f"dagster=={version}", envs.Spec(text=f"dagster=={version}", version=version))


def from_options(*, python: str | None = None, dagster_version: str | None = None, path: str | None = None,
                 target: str | None = None) -> Side:
    """The side chosen by `--python`, `--dagster-version` or `--path` (at most one), else installed."""
    chosen = [x for x in (python, dagster_version, path) if x is not None]
    if len(chosen) > 1:
        raise CompatError("choose one of --python, --dagster-version, --path")
    if python is not None:
        return Side(python, envs.Spec(text=python, python=python))
    if dagster_version is not None:
        return Side(f"dagster=={dagster_version}", envs.Spec(text=dagster_version,
                                                             version=envs.check_version(dagster_version)))
    if path is not None:
        side = resolve(path, target)
        if side.spec is None or not side.spec.tree:
            raise CompatError(f"--path {path}: not a source tree (a directory, or a git checkout as PATH@REV)")
        return side
    return Side(INSTALLED, package=_package(target))


__all__ = ["Side", "resolve", "from_options", "INSTALLED"]

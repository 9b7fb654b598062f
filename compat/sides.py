"""Sides: what is compared, resolved once into where to read its sources and what to run it with.

A side is the dagster this interpreter imports (``installed``), a released version
(``dagster==X``), another interpreter, or a dagster source tree. Every command takes its
sides through :func:`resolve`, so ``--old``/``--new``, ``compat diff OLD NEW``, ``--python``,
``--dagster-version`` and ``--path`` mean the same everywhere; the environments behind a side
are built lazily (a static check never builds one) and cached (see :mod:`compat.envs`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version

from compat import envs
from compat.model.errors import CompatError
from compat.static.extract import installed_search_paths, snapshot

INSTALLED = "installed"


@dataclass
class Side:
    text: str
    spec: envs.Spec | None = None  # None: the dagster this interpreter imports

    @property
    def installed(self) -> bool:
        return self.spec is None

    @property
    def label(self) -> str:
        """The side named by what it is: `dagster 1.13.29`, `dagster==1.11.4`, a path."""
        if self.spec is None:
            try:
                return f"dagster {version('dagster')}"
            except PackageNotFoundError:
                return "dagster (not installed)"
        return self.spec.label

    @property
    def source(self) -> str:
        """How the surface was read, as recorded in its generator block."""
        if self.spec is None:
            return INSTALLED
        if self.spec.version:
            return self.spec.label
        return "python" if self.spec.python else "spec"

    @cached_property
    def search_paths(self) -> list[str]:
        """Where static loading finds this side's dagster (no environment is built)."""

        return installed_search_paths() if self.spec is None else envs.search_paths_for(self.spec)

    @cached_property
    def python(self) -> str:
        """An interpreter whose `import dagster` is this side's (built and cached if needed)."""
        return sys.executable if self.spec is None else envs.python_for(self.spec)

    def surface(self, target: str, *, use_cache: bool = True):
        return snapshot(target, self.search_paths, source=self.source, use_cache=use_cache)


def resolve(text: str | None) -> Side:
    """A SPEC (`dagster==X`, `X`, an interpreter, a source tree) or `installed`/None."""
    if text is None or text == INSTALLED:
        return Side(INSTALLED)
    if not isinstance(text, str) or not text.strip():
        raise CompatError("empty SPEC (expected dagster==X, a python interpreter, a dagster source tree or installed)")
    return Side(text, envs.parse_spec(text))


def from_options(*, python: str | None = None, dagster_version: str | None = None, path: str | None = None) -> Side:
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
        side = resolve(path)
        if side.spec is None or not side.spec.tree:
            raise CompatError(f"--path {path}: not a dagster source tree")
        return side
    return Side(INSTALLED)


__all__ = ["Side", "resolve", "from_options", "INSTALLED"]

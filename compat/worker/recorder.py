"""The worker side of change-aware replay: what a recording worker ran and touched.

While a baseline is recorded (``COMPAT_REACH=1``), each worker runs coverage.py on the packages of
dagster itself and hands the lines each cell ran to the parent; it also notes what else the
cell reached that a change could alter: modules imported, distributions used, metadata read,
module names looked up, folders listed, data files opened. The parent turns both into the reach
map (:mod:`compat.behaviour.reach`), which this module does not need: editing how the map is
built or how a selection is made leaves every recorded trace what it was.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sys
from typing import Any

HASHED_PACKAGES = ("dagster", "dagster_shared", "dagster_pipes")
# the harness's own code a cell runs (scenarios, corpus, fuzz operations, normalizer) is measured
# too, under this prefix: which of its functions mention a member tells which cells can look the
# member up (a signature edit, see compat.behaviour.reach); a harness edit replays everything
HARNESS_PREFIX = "compat/"


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()[:16]


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def package_dirs() -> list[str]:
    """Where this interpreter imports the hashed packages from (no package is imported)."""
    import importlib.util

    dirs = []
    for name in HASHED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            dirs.append(os.path.realpath(list(spec.submodule_search_locations)[0]))
    return dirs


class LineRecorder:
    """coverage.py on the hashed packages, read and reset at each cell boundary."""

    def __init__(self) -> None:
        import coverage

        self._coverage = coverage
        self.dirs = package_dirs()
        self.harness = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self._cov = None
        self._real: dict[str, str] = {}  # measured file -> its real path (files do not move mid-run)
        self.touches = Touches(self.dirs)
        self.start()

    def start(self) -> None:
        # the worker's speed-ups record in whichever cell first needs them and replay in the next:
        # which lines of theirs a cell runs is the worker's history, not the cell's (an edit of
        # them changes the harness digest, which replays everything); nor is the recorder's own code
        # (its audit hook runs for every file a worker opens, most of them in its first cell)
        omit = [os.path.join(self.harness, "worker", name) for name in ("speedups.py", "recorder.py")]
        # the folders as include patterns, not as `source`: the same files are measured, but a
        # `source` makes every read of the data walk those folders for files never executed
        # (thousands, each cell), which no reach map uses
        include = [os.path.join(d, "*") for d in (*self.dirs, self.harness)]
        self._cov = self._coverage.Coverage(data_file=None, include=include, config_file=False,
                                            branch=False, omit=omit)
        self._cov.start()

    def take(self, *, harness: bool = True, into: dict[str, list[int]] | None = None) -> dict[str, list[int]]:
        """Lines executed since the last take, per file relative to its package's parent. The
        garbage is collected first: a finalizer (``OutputContext.__del__``) then runs in the cell
        that made its object, not in whichever later cell the collector happened to run in.
        ``harness=False`` leaves out the harness's own lines: a worker's start-up runs other harness
        code whether it was forked from a warm server or started alone, and none of it is a cell's.
        ``into``: lines taken earlier (a fork server's start-up) that the result joins, merged while
        nothing is measured, so that no line of the merge lands in the next cell."""
        gc.collect()
        self.touches.paused = True
        self._cov.stop()
        data = self._cov.get_data()
        out: dict[str, list[int]] = {}
        roots = [*self.dirs, self.harness] if harness else self.dirs
        for f in data.measured_files():
            lines = data.lines(f)
            if not lines:  # a file with no line run adds nothing to a reach map
                continue
            real = self._real.get(f) or self._real.setdefault(f, os.path.realpath(f))
            for d in roots:
                if real.startswith(d + os.sep):
                    rel = os.path.relpath(real, os.path.dirname(d)).replace(os.sep, "/")
                    out[rel] = sorted(set(out.get(rel, [])) | set(lines))
        if into is not None:
            out = {f: sorted(set(into.get(f, [])) | set(out.get(f, []))) for f in sorted(set(into) | set(out))}
        self.start()
        self.touches.paused = False
        return out

    def touched(self) -> dict[str, Any]:
        """What the worker touched so far besides lines (:class:`Touches`), cumulative."""
        return self.touches.take()


class Touches:
    """What a recording worker reached besides the lines of dagster it ran, cumulative since it
    started (a fork inherits its server's start-up): the modules of dagster it imported, the
    distributions whose code or files it used, the metadata files of distributions it read (with
    their digests), the module names it asked for and never imported, the folders of dagster it
    listed and the data files of dagster it opened. A change outside all of them cannot reach a
    cell (see :func:`select`)."""

    def __init__(self, dirs: list[str]) -> None:
        from importlib import metadata

        self.dirs = dirs
        self.paused = False  # the recorder's own work (coverage walks its source folders)
        self._paths: set[str] = set()  # opened (audit "open"), classified at take time
        self._listed: set[str] = set()  # listed by code other than the import system
        self.asked: set[str] = set()  # every module name the import system was asked for
        self._seen: set[str] = set()
        self.modules: set[str] = set()
        self.distributions: set[str] = set()
        self.metadata: dict[str, str] = {}  # "dist/file" of a .dist-info read -> digest ("-": absent)
        self.listed: set[str] = set()
        self.opened: set[str] = set()
        self._owners: dict[str, dict[str, str]] = {}  # site root -> file relative to it -> distribution
        for dist in metadata.distributions():
            name = _canonical(dist.metadata["Name"] or "")
            if not name:
                continue
            root = os.path.realpath(str(dist.locate_file("")))
            owned = self._owners.setdefault(root, {})
            for f in dist.files or ():
                owned.setdefault(str(f).replace(os.sep, "/"), name)
        # the deepest root first: an editable install's root can hold a venv's site folder
        self._roots = sorted(self._owners, key=len, reverse=True)
        sys.addaudithook(self._audit)
        sys.meta_path.insert(0, _AskedNames(self.asked))

    def _audit(self, event: str, args: tuple) -> None:
        if self.paused:
            return
        if event == "open":
            if isinstance(args[0], str):
                self._paths.add(args[0])
        elif event in ("os.listdir", "os.scandir"):
            path = args[0] if args else None
            if isinstance(path, str) and not sys._getframe(1).f_code.co_filename.startswith("<frozen importlib"):
                self._listed.add(path)

    def _where(self, path: str) -> tuple[str, str] | None:
        """(site root, path relative to it) for a path under a root holding distributions."""
        real = os.path.realpath(path)
        for root in self._roots:
            if real == root or real.startswith(root + os.sep):
                return root, os.path.relpath(real, root).replace(os.sep, "/")
        return None

    def _owning(self, root: str, folder: str) -> set[str]:
        prefix = folder.rstrip("/") + "/"
        return {d for f, d in self._owners[root].items() if f.startswith(prefix)}

    def _hashed(self, path: str) -> str | None:
        real = os.path.realpath(path)
        for d in self.dirs:
            if real == d or real.startswith(d + os.sep):
                return os.path.relpath(real, os.path.dirname(d)).replace(os.sep, "/")
        return None

    def _file(self, path: str) -> None:
        rel = self._hashed(path)
        if rel is not None:
            (self.modules if rel.endswith(".py") else self.opened).add(rel)
            return
        where = self._where(path)
        if where is None:
            return
        root, rel = where
        top, _, inner = rel.partition("/")
        owners = {self._owners[root][rel]} if rel in self._owners[root] else self._owning(root, top)
        if top.endswith(".dist-info") and inner and "/" not in inner:
            # a metadata file read (importlib.metadata: entry points, version): its content is
            # what the code saw, so a new version with the same content is not felt
            for owner in owners:
                self.metadata[f"{owner}/{inner}"] = metadata_digest(os.path.realpath(path))
        else:
            # a file its distribution's RECORD does not list counts for every owner of its folder
            self.distributions |= owners

    def take(self) -> dict[str, Any]:
        self.paused = True
        try:
            for name in [n for n in list(sys.modules) if n not in self._seen]:
                self._seen.add(name)
                path = getattr(sys.modules.get(name), "__file__", None)
                if isinstance(path, str):
                    self._paths.add(path)
            paths, self._paths = self._paths, set()
            for path in paths:
                self._file(path)
            listed, self._listed = self._listed, set()
            for path in listed:
                rel = self._hashed(path)
                if rel is not None:
                    self.listed.add(rel)
                elif (where := self._where(path)) is not None:
                    # listing a site folder (importlib.metadata's search) sees which distributions
                    # exist: one added or gone is felt ("*")
                    self.distributions |= {"*"} if where[1] == "." else self._owning(*where)
            # names asked for and never held: failed imports and look-ups that imported nothing (a
            # file added or removed under such a name changes their outcome)
            asked = sorted(self.asked - self._seen)
        finally:
            self.paused = False
        return {"modules": sorted(self.modules), "distributions": sorted(self.distributions),
                "metadata": dict(sorted(self.metadata.items())),
                "asked": asked, "listed": sorted(self.listed), "opened": sorted(self.opened)}


def metadata_digest(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return _sha(f.read())
    except OSError:
        return "-"


class _AskedNames:
    """The first finder on ``sys.meta_path``: notes every name asked for, and lets the others find it."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        self.names.add(fullname)
        return None

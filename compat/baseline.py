"""A recorded baseline read back as a stranger's file: validated on load, every part through its
producer's own reader (the surface, the stored programs, the accepted findings, the reach map).

What a recording may replace is decided here too (only a baseline, an empty directory or none),
and the digests a manifest keeps of every file, which name a hand edit since the recording.
The format itself is compat/model/baseline.py; recording is compat/record.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from compat import tempdirs
from compat.behaviour import reach as reach_mod
from compat.behaviour import selection as selection_mod
from compat.behaviour.cells import default_subclasses, plan_cells
from compat.fuzz import differential
from compat.fuzz.differential import PROGRAMS_FILE, load_programs
from compat.gate import accepted as accepted_mod
from compat.model import jsonio, schemas
from compat.model.baseline import READ_VERSIONS, SCHEMA, VERSION, refuse_links, surface_label, walk_error
from compat.model.errors import CompatError
from compat.model.profile import read_profile
from compat.model.surface import CLASS_ATTRIBUTE
from compat.static.extract import DEFAULT_TARGET, read_surface


def check_replaceable_baseline(out: str | os.PathLike[str]) -> Path:
    """`out` as a path a recording may replace: absent, an empty directory, or a baseline (a
    directory holding a valid manifest). Anything else is refused in one line before anything
    is touched: `""` (the working directory, `.git` and all), a file, a link, a folder of files."""
    text = os.fspath(out)
    if not str(text).strip():
        raise CompatError("baseline directory '': an empty path names the working directory; "
                          "refusing to replace it (name the baseline directory)")
    path = Path(text)
    if os.path.islink(path):
        raise CompatError(f"{path}: is a symbolic link; refusing to replace it (name the baseline directory itself)")
    if not os.path.lexists(path):
        return path
    if not path.is_dir():
        raise CompatError(f"{path}: is not a directory; refusing to replace it with a baseline")
    try:
        empty = next(os.scandir(path), None) is None
    except OSError as exc:
        raise CompatError(f"{path}: cannot list it: {exc.strerror or exc}") from None
    if empty:
        return path
    manifest = path / "manifest.json"
    try:
        if os.path.islink(manifest):
            raise CompatError(f"{manifest}: is a symbolic link")
        schemas.check(schemas.Manifest, jsonio.read_json(manifest, schema=SCHEMA, versions=READ_VERSIONS), manifest)
    except CompatError as exc:
        raise CompatError(f"{path}: is not empty and not a baseline ({exc}); refusing to replace it") from None
    refuse_links(path)
    try:
        stray = _not_of_a_baseline(path)
    except OSError as exc:
        raise CompatError(f"{exc.filename or path}: cannot list it: {exc.strerror or exc}") from None
    if stray:
        raise CompatError(f"{path}: holds {stray}, which no recording writes; refusing to replace it (a re-recording "
                          "would delete it: move it out of the baseline first)")
    accepted_mod.load(path)  # kept across the re-recording: refused now, not after the work
    return path


# what a recording writes (and accepted.json, which reviewers write): a re-recording replaces the
# whole folder, so anything else in it (a user's notes, a submodule's .git) would be lost
_LAYOUT = {"manifest.json": None, "surface.json": None, "accepted.json": None, "reach.json": None,
           "profiles": ".json", "traces": ".json", "fuzz": "programs.json"}


def _not_of_a_baseline(root: Path) -> str | None:
    """The first entry of `root` (sorted) a recording never writes, or None."""
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        kind = _LAYOUT.get(entry.name, False)
        if kind is False or (kind is None) != entry.is_file(follow_symlinks=False):
            return entry.name + ("/" if entry.is_dir(follow_symlinks=False) else "")
        if kind is not None:
            for inner in sorted(os.scandir(entry.path), key=lambda e: e.name):
                if not inner.is_file(follow_symlinks=False) or not inner.name.endswith(kind) \
                        or (kind == "programs.json" and inner.name != kind):
                    return f"{entry.name}/{inner.name}" + ("/" if inner.is_dir(follow_symlinks=False) else "")
    return None


_UNSEALED = ("manifest.json", accepted_mod.FILENAME, tempdirs.OWNER)

def file_digests(root: Path, *, every: bool = False) -> dict[str, str]:
    """The sha256 of each file of a baseline by its path inside it: what its manifest keeps. The
    manifest itself and accepted.json (a reviewed list, edited by hand on purpose) are left out
    unless ``every``. Links are never followed (a baseline holds none: refuse_links)."""
    out = {}
    for folder, dirs, files in os.walk(root, onerror=walk_error):
        dirs.sort()
        for name in files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if (not every and rel in _UNSEALED) or os.path.islink(path) or not path.is_file():
                continue
            try:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                raise CompatError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    return dict(sorted(out.items()))

def hand_edits(root: Path, manifest: dict) -> list[str]:
    """One warning line naming the files changed, added or removed since the recording (by the
    manifest's digests), or a note that an older manifest keeps none; [] when nothing changed."""
    recorded = manifest.get("digests")
    if recorded is None:
        return [f"note: baseline {root} keeps no file digests (recorded by an older compat), so a hand edit "
                "since its recording cannot be named; re-record it to keep them"]
    now = file_digests(root)
    changed = [f"{rel} (edited)" for rel in sorted(set(now) & set(recorded)) if now[rel] != recorded[rel]]
    changed += [f"{rel} (added)" for rel in sorted(set(now) - set(recorded))]
    changed += [f"{rel} (removed)" for rel in sorted(set(recorded) - set(now))]
    if not changed:
        return []
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    return [f"warning: baseline {root}: {len(changed)} file{'s' if len(changed) != 1 else ''} changed by hand since "
            f"it was recorded: {', '.join(changed[:3])}{more}; review the edit, or re-record the baseline"]


_UNREAD = object()

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*\.json")

class Baseline:
    """A recorded baseline directory, validated on load."""

    def __init__(self, path: str | os.PathLike[str], *, read_reach: bool = True):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise CompatError(f"baseline {self.path}: is a file, expected a baseline directory")
        if not self.path.is_dir():
            raise CompatError(f"baseline {self.path}: no such directory; record one with `compat baseline --out {self.path}`")
        refuse_links(self.path)
        manifest = self.path / "manifest.json"
        if not os.path.lexists(manifest):
            raise CompatError(f"baseline {self.path}: manifest.json is missing; re-record it with `compat baseline --out {self.path}`")
        self.manifest = jsonio.read_json(manifest, schema=SCHEMA, versions=(VERSION,))
        schemas.check(schemas.Manifest, self.manifest, manifest)
        if not os.path.lexists(self.path / "surface.json"):
            raise CompatError(f"baseline {self.path}: surface.json is missing; re-record it")
        self.surface = read_surface(self.path / "surface.json")
        self.target = self.manifest.get("target", self.surface.target)
        for name in self.manifest.get("profiles", []):
            if not _PLAIN_NAME.fullmatch(name):  # `../../x.json` would read outside the baseline
                raise CompatError(f"{manifest}: profile {name!r} is not a file name inside profiles/; re-record it")
            if not os.path.lexists(self.path / "profiles" / name):
                raise CompatError(f"baseline {self.path}: profiles/{name} is missing; re-record it")
        self._programs: list[dict] = []
        if self.manifest.get("fuzz_programs") or os.path.lexists(self.programs_file()):
            if not os.path.lexists(self.programs_file()):
                raise CompatError(f"baseline {self.path}: fuzz/programs.json is missing; re-record it")
            # counted both ways: a manifest saying 0 would otherwise leave every stored program unread
            self._programs = load_programs(self.programs_file())
            if len(self._programs) != self.manifest["fuzz_programs"]:
                raise CompatError(f"baseline {self.path}: fuzz/programs.json holds {len(self._programs)} programs but "
                                  f"the manifest lists {self.manifest['fuzz_programs']}; re-record it")
        traces = self.trace_files()
        if len(traces) != self.manifest.get("cells", 0):
            raise CompatError(
                f"baseline {self.path}: {len(traces)} trace files but the manifest lists {self.manifest['cells']}; re-record it"
            )
        self._unrecorded: list[str] = []
        self._check_cell_set(traces)
        self.accepted = accepted_mod.load(self.path, [*self.surface.members, *self.surface.instance_attributes])
        self._reach = reach_mod.load(self.path) if read_reach else _UNREAD
        # what every report of a check against this baseline says before its verdict is trusted
        self.warnings: list[str] = hand_edits(self.path, self.manifest) + self._unrecorded

    def _check_cell_set(self, traces: list[Path]) -> None:
        """The trace files are the cells of the cell set the manifest claims: a trace of a cell
        the set does not hold would be replayed as if recorded, and a hole in the recorded grid (a
        cell whose subclass, scenario and storage the baseline all holds, with no trace) would
        never be compared; either is refused. Cells of a subclass, scenario or storage the
        baseline holds no trace of at all are the harness's since the recording (a scenario added
        later): not checked, and every report says so."""
        where = self.path / "manifest.json"
        declared, selection = self.manifest.get("cell_set"), self.manifest.get("selection")
        if declared is None:
            if traces or selection:
                raise CompatError(f"{where}: cell_set: none declared, but the baseline holds "
                                  f"{len(traces)} trace files; re-record it")
            return
        selection = selection or {}
        known = set(default_subclasses())
        unknown = [s for s in selection.get("subclasses") or () if s not in known]
        if unknown:
            raise CompatError(f"{where}: selection.subclasses: {unknown[0]!r} is no subclass of the harness; re-record it")
        try:
            plan = plan_cells(selection.get("subclasses"), selection.get("scenarios"),
                              selection.get("storages"), declared)
        except CompatError as exc:
            raise CompatError(f"{where}: {exc}; re-record it") from None
        claimed = "the " + repr(declared) + " cell set" + (" as narrowed by its selection" if selection else "")
        cells = {schemas.trace_filename(c)[:-5]: c for c in plan}
        held = {p.stem for p in traces}
        extra = sorted(held - set(cells))
        if extra:
            more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
            raise CompatError(f"baseline {self.path}: traces/{extra[0]}.json: a cell {claimed} does not hold{more}; "
                              "re-record it")
        axes = ("subclass", "scenario", "storage")
        seen = {axis: {cells[stem][axis] for stem in held} for axis in axes}
        missing = sorted(set(cells) - held)
        holes = [stem for stem in missing if all(cells[stem][axis] in seen[axis] for axis in axes)]
        if holes:
            more = f" (and {len(holes) - 1} more)" if len(holes) > 1 else ""
            raise CompatError(f"baseline {self.path}: traces/{holes[0]}.json: a cell of {claimed} with no trace file"
                              f"{more}; re-record it")
        if missing:
            new = {axis: sorted({cells[stem][axis] for stem in missing} - seen[axis]) for axis in axes}
            named = "; ".join(f"{axis} {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
                              for axis, names in new.items() if names)
            some = f"1 cell of {claimed} has" if len(missing) == 1 else f"{len(missing)} cells of {claimed} have"
            self._unrecorded = [f"warning: baseline {self.path}: {some} no trace ({named}: newer than the "
                                "recording), not checked; re-record the baseline to check them"]

    @property
    def dagster(self) -> str | None:
        """The dagster release the baseline was recorded on, as its manifest says."""
        recorded = self.manifest.get("generator", {}).get("dagster")
        return recorded if isinstance(recorded, str) else None

    def read_trace(self, path: Path) -> dict:
        """One trace file of this baseline, held to its cell and to the release recorded."""
        return schemas.read_trace(path, dagster=self.dagster)

    def target_for(self, named: str | None) -> str:
        """The class to check: the one the user named (an option or `[tool.compat]`), which must be
        the one recorded, else the recorded one only if it is the default. A baseline is data: the
        module its manifest names is never imported on its word (a module of that name in the
        working directory would run)."""
        if named is None:
            if self.target != DEFAULT_TARGET:
                raise CompatError(f"baseline {self.path} was recorded for {self.target}; name that target "
                                  "(--target, --compat-target or [tool.compat] target) to check it: "
                                  "a baseline's manifest names no code to import")
            return self.target
        self.same_target(named)
        return named

    def same_target(self, named: str) -> None:
        if named != self.target:
            raise CompatError(f"{named}: baseline {self.path} was recorded for {self.target}, another class; "
                              f"record a baseline of {named} to check it")

    @property
    def reach(self) -> reach_mod.Reach | None:
        """The reach map; read on first use where the loader said so (an xdist worker is handed
        its selection and never needs the map: a second of its start-up)."""
        if self._reach is _UNREAD:
            self._reach = reach_mod.load(self.path)
        return self._reach

    def foreign_reach(self) -> str | None:
        """Why the reach map is not this recording's, or None: one that changed since the
        recording, maps other cells, or never saw the files the recorded surface was read from
        (another release's) would skip cells that this baseline's own change does reach."""
        reach, recorded = self.reach, self.manifest.get("digests")
        if recorded is not None and recorded.get(reach_mod.FILENAME) != file_digests(self.path).get(reach_mod.FILENAME):
            return "it changed since the recording"
        cells, programs = {p.stem for p in self.trace_files()}, set(self.program_ids())
        if set(reach.cells) != cells or set(reach.programs) != programs:
            return (f"it maps {len(reach.cells)} cells and {len(reach.programs)} programs, the baseline holds "
                    f"{len(cells)} and {len(programs)}")
        # the recorded class's methods as the reach map names functions (`file:Class.name`): a map
        # of this recording knows most of them (the cells ran them), another release's none
        packages = {rel.split("/", 1)[0] for rel in reach.files}
        methods = sorted(f"{m.location.rsplit(':', 1)[0]}:{m.defined_in.rsplit('.', 1)[-1]}.{name}"
                         for name, m in self.surface.members.items()
                         if m.kind != CLASS_ATTRIBUTE and m.location and m.defined_in
                         and m.location.split("/", 1)[0] in packages)
        if len(methods) >= 10 and not set(methods) & set(reach.functions):
            return f"it names none of the {len(methods)} recorded methods' functions, such as {methods[0]}"
        return None

    @property
    def label(self) -> str:
        return surface_label(self.surface)

    def profiles(self):
        return [(name, read_profile(self.path / "profiles" / name)) for name in self.manifest.get("profiles", [])]

    def programs_file(self) -> Path:
        return self.path / PROGRAMS_FILE

    def programs(self) -> list[dict]:
        """The stored fuzz programs with their recorded results ([] when none were recorded)."""
        return self._programs

    def trace_files(self) -> list[Path]:
        tdir = self.path / "traces"
        return sorted(tdir.glob("*.json")) if tdir.is_dir() else []

    def program_ids(self) -> list[str]:
        return [differential.program_id(i, p) for i, p in enumerate(self._programs)]

    def selection(self, python: str, search_paths: list[str], *, full: bool = False) -> selection_mod.Selection:
        """Which cells and programs a new side must replay (all, without a reach map or with ``full``).
        A cell that is not replayed keeps its recorded verdict, so its trace is validated here
        all the same: a damaged recording is refused whether or not the change reaches it."""
        files = self.trace_files()
        foreign = None if full or self.reach is None else self.foreign_reach()
        if foreign is not None:
            warning = (f"warning: baseline {self.path}: reach.json is not this recording's ({foreign}); "
                       "every cell and program replayed")
            if warning not in self.warnings:
                self.warnings.append(warning)
            chosen = selection_mod.everything([p.stem for p in files], self.program_ids(),
                                              f"the reach map is not this recording's ({foreign})")
        else:
            texts = {differential.program_id(i, p): json.dumps(p, sort_keys=True)
                     for i, p in enumerate(self._programs)}
            chosen = selection_mod.select(self.reach, [p.stem for p in files], self.program_ids(), python=python,
                                          search_paths=search_paths, full=full, program_texts=texts)
        replayed = set(chosen.cells)
        for path in files:
            if path.stem not in replayed:
                self.read_trace(path)
        return chosen

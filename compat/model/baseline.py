"""Baselines: the surface, profiles and traces recorded from the old class, in one directory.

Layout (all canonical JSON, reviewable in git)::

    manifest.json      what was recorded, from which dagster, with which harness
    surface.json       the target's surface
    profiles/*.json    profiles of the subclasses the gate protects
    traces/*.json      one behaviour trace per (subclass, scenario, storage) cell
    fuzz/programs.json generated programs with the old side's results
    reach.json         what each cell and program executed of dagster, for change-aware replay
    accepted.json      reviewed, intended findings (optional; kept across re-recording)

A baseline is recorded into a temporary sibling directory and swapped in with renames, so an
interrupted recording leaves the previous baseline loadable. Only a directory that already is a
baseline (it holds a valid manifest), an empty one or none at all is ever replaced: a mistyped
`--out` must not empty a folder of someone's files.

A baseline is data a pull request can change, so it is read as a stranger's file: it holds no
symbolic links (none is followed, none copied into a re-recording) and every path it names stays
inside it. Its manifest keeps a digest of every other file (accepted.json aside: a reviewed list
edited by hand on purpose), so a hand edit since the recording is named in every report.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Callable

from packaging.version import InvalidVersion, Version

from compat import sides, tempdirs
from compat.behaviour import reach as reach_mod
from compat.behaviour import replay as behaviour_mod
from compat.fuzz import differential
from compat.fuzz.differential import PROGRAMS_FILE, load_programs
from compat.gate import accepted as accepted_mod
from compat.model import jsonio, schemas
from compat.model.errors import CompatError
from compat.model.findings import Finding
from compat.model.surface import CLASS_ATTRIBUTE
from compat.static.diff import compare_surfaces
from compat.static.extract import DEFAULT_TARGET, read_surface, side_surface, write_surface
from compat.model.profile import read_profile, write_profile
from compat.static.profile import profile_source
from compat.static.profile_checks import check_profile, check_profile_change

SCHEMA = "compat.baseline"
VERSION = 1
READ_VERSIONS = (1,)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = PROJECT_ROOT / "compat" / "corpus"
# Profiles of real subclass packages shipped with the harness, copied into new baselines.
SHIPPED_PROFILES = PROJECT_ROOT / "snapshots" / "profiles"


def _noop(msg: str) -> None:
    pass


def _side(python: str | None):
    """The side recorded: another interpreter's dagster, or this one's."""

    return sides.from_options(python=python)


def _python(python: str | None) -> str:
    return _side(python).python


def _surface(python: str | None, target: str):
    return side_surface(_side(python), target)


def record_baseline(
    out: str | os.PathLike[str],
    *,
    python: str | None = None,
    target: str,
    jobs: int = 1,
    behaviour: bool = True,
    cell_set: str | None = None,
    fuzz_programs: int | None = None,
    progress: Callable[[str], None] = _noop,
    finish: Callable[[Path], None] | None = None,
) -> Path:
    """Record surface, profiles and traces into `out`, replacing it atomically. ``finish`` sees
    the finished recording before it is swapped in; what it raises leaves `out` untouched."""

    out = check_replaceable_baseline(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempdirs.make(f".{out.name}.", out.parent)
    try:
        progress("recording the surface")
        surface = _surface(python, target)
        write_surface(surface, tmp / "surface.json")
        profiles = _record_profiles(tmp / "profiles", surface, python, target, progress)
        cells = programs = 0
        if behaviour:
            cell_set = cell_set or behaviour_mod.DEFAULT_CELL_SET
            progress(f"recording the {cell_set!r} behaviour cells with {jobs} worker(s)")
            lines: dict = {}
            cells = len(behaviour_mod.record(_python(python), str(tmp), jobs=jobs, cell_set=cell_set, reach=lines))
            wanted = differential.DEFAULT_STORED_PROGRAMS if fuzz_programs is None else fuzz_programs
            program_lines: dict = {"programs": {}, "startup": {}, "touched": {}}
            if wanted:
                progress(f"recording {wanted} generated programs and their results")
                programs = differential.record_programs(_python(python), tmp / differential.PROGRAMS_FILE,
                                                        max_examples=wanted, reach=program_lines)
            progress("mapping what each cell executed onto the functions of dagster")
            startup = dict(lines["startup"])
            behaviour_mod.merge_lines(startup, program_lines["startup"])
            touched = dict(lines["touched"])
            reach_mod.merge_touches(touched, program_lines["touched"])
            reach_mod.write(reach_mod.build(_python(python), _side(python).search_paths, startup, lines["cells"],
                                            program_lines["programs"], touched=touched), tmp)
        if not behaviour:
            # a static re-record keeps the recorded behaviour layers; it was not asked to drop them
            cells, programs = _keep_replay_layers(out, tmp)
            if cells:
                try:
                    cell_set = jsonio.read_json(out / "manifest.json", schema=SCHEMA, versions=(VERSION,)).get("cell_set")
                except CompatError:
                    cell_set = None
        if os.path.lexists(out / accepted_mod.FILENAME):  # checked, a regular file (no link is copied)
            accepted_mod.load(out)
            shutil.copy2(out / accepted_mod.FILENAME, tmp / accepted_mod.FILENAME, follow_symlinks=False)
        jsonio.write_json(
            tmp / "manifest.json",
            {
                "schema": SCHEMA,
                "schema_version": VERSION,
                "target": target,
                "generator": surface.generator,
                "profiles": profiles,
                "cells": cells,
                "cell_set": cell_set if behaviour or cells else None,
                "fuzz_programs": programs,
                "digests": file_digests(tmp),
            },
        )
        if finish is not None:
            finish(tmp)
        _swap(tmp, out)
    except (CompatError, OSError) as exc:  # a full disk, a bad target: nothing of `out` changed
        reason = exc if isinstance(exc, CompatError) else _os_fault(exc)
        raise CompatError(f"baseline {out} not recorded, the old one is untouched: {reason}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"baseline written to {out}")
    return out


def copy_baseline(src: Path, out: str | os.PathLike[str], progress: Callable[[str], None] = _noop) -> Path:
    """`out` becomes a copy of the recorded baseline `src` (a cached recording of a side), swapped
    in atomically; the accepted findings already in `out` are kept, as a re-recording keeps them."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempdirs.make(f".{out.name}.", out.parent)
    try:
        for item in sorted(Path(src).iterdir()):
            if item.name == accepted_mod.FILENAME:
                continue
            if item.is_dir():
                shutil.copytree(item, tmp / item.name)
            else:
                shutil.copy2(item, tmp / item.name)
        if (out / accepted_mod.FILENAME).exists():
            shutil.copy2(out / accepted_mod.FILENAME, tmp / accepted_mod.FILENAME)
        _swap(tmp, out)
    except OSError as exc:
        raise CompatError(f"baseline {out} not written, the old one is untouched: {_os_fault(exc)}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"baseline written to {out}")
    return out


def _os_fault(exc: OSError) -> str:
    """One line for an OSError, shutil.copytree's list of them included."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        src, _, why = exc.args[0][0]
        return f"{src}: {why}"
    return f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)


def _keep_replay_layers(old: Path, new: Path) -> tuple[int, int]:
    cells = programs = 0
    refuse_links(old)  # a link planted in the old baseline is not copied in (nor its target)
    if (old / "traces").is_dir():
        shutil.copytree(old / "traces", new / "traces", symlinks=True)
        cells = len(list((new / "traces").glob("*.json")))
    if (old / differential.PROGRAMS_FILE).is_file():
        (new / differential.PROGRAMS_FILE).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(old / differential.PROGRAMS_FILE, new / differential.PROGRAMS_FILE)
        programs = len(differential.load_programs(new / differential.PROGRAMS_FILE))
    if (old / reach_mod.FILENAME).is_file():
        shutil.copy2(old / reach_mod.FILENAME, new / reach_mod.FILENAME)
    return cells, programs


def _record_profiles(dest: Path, surface, python, target, progress, dagster_paths: list[str] | None = None) -> list[str]:
    """The corpus profile plus the shipped real-subclass profiles."""
    names = []
    dest.mkdir(parents=True, exist_ok=True)

    if target == DEFAULT_TARGET:  # the corpus subclasses DagsterInstance; other targets have none
        progress("profiling the subclass corpus")
        prof = profile_source(str(CORPUS_DIR), target=target, python=python, dagster_paths=dagster_paths)
        write_profile(prof, dest / "corpus.json")
        names.append("corpus.json")
    for path, why in _matching_profiles(surface):
        if read_profile(path).target != target:
            continue  # a real package's profile says how it uses its own base class only
        progress(f"profile {path.stem}: {why}")
        shutil.copy2(path, dest / path.name)
        names.append(path.name)
    return sorted(names)


def _release(text: str) -> Version | None:
    """A final or pre-release of dagster; None for what is not one: a checkout's `1!0+dev`
    (epoch 1 and a local part, which would sort after every release) or an unreadable version."""
    try:
        v = Version(text)
    except InvalidVersion:
        return None
    return None if v.epoch or v.local is not None else v


def _shipped_profiles() -> dict[str, list[tuple[Version, Path]]]:
    """The real subclass packages shipped under snapshots/profiles/ (NAME-VERSION.json), each
    with its recorded releases, oldest first."""
    by_package: dict[str, list[tuple[Version, Path]]] = {}
    if not SHIPPED_PROFILES.is_dir():
        return by_package
    for path in SHIPPED_PROFILES.glob("*.json"):
        m = re.match(r"^(?P<pkg>.+?)-(?P<ver>\d+(\.\d+)+)\.json$", path.name)
        if m and not path.name.startswith("corpus"):
            by_package.setdefault(m.group("pkg"), []).append((Version(m.group("ver")), path))
    for entries in by_package.values():
        entries.sort()
    return by_package


def _matching_profiles(surface) -> list[tuple[Path, str]]:
    """For each shipped real subclass package, the profile that fits the recorded dagster, with
    why it was chosen. A release takes the profile of the newest release not newer than it (a
    dagster-cloud release is built for the dagster release of the same number). A version that
    is no release (a checkout's `1!0+dev`) says nothing about which release its code is, so the
    code decides: the profile that finds the fewest uses missing from the recorded surface, the
    newer release on a tie (a checkout of master is nearer the newest)."""
    dagster = surface.generator.get("dagster", "")
    want = _release(dagster)
    chosen = []
    for _, entries in sorted(_shipped_profiles().items()):
        if want is not None:
            older = [e for e in entries if e[0] <= want]
            version, path = older[-1] if older else entries[0]
            why = (f"recorded on {version}, the newest release not newer than dagster {dagster}" if older
                   else f"recorded on {version}, the oldest shipped (none is older than dagster {dagster})")
            chosen.append((path, why))
            continue
        scored = []  # newest first, so that a tie keeps the newer release
        for version, path in reversed(entries):
            profile = read_profile(path)
            if profile.target == surface.target:
                scored.append((len(check_profile(profile, surface)), version, path))
        if scored:
            missing, version, path = min(scored, key=lambda s: s[0])
            chosen.append((path, f"recorded on {version}, whose uses dagster {dagster} (no release) matches best: "
                                 f"{missing} finding(s) against its surface"))
    return chosen


def _dir_mode(out: Path) -> int:
    """The mode the new tree gets: the old folder's (a re-record keeps it), else what mkdir gives."""
    try:
        return stat.S_IMODE(out.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o777 & ~umask


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
    accepted_mod.load(path)  # kept across the re-recording: refused now, not after the work
    return path


_UNSEALED = ("manifest.json", accepted_mod.FILENAME, tempdirs.OWNER)


def file_digests(root: Path, *, every: bool = False) -> dict[str, str]:
    """The sha256 of each file of a baseline by its path inside it: what its manifest keeps. The
    manifest itself and accepted.json (a reviewed list, edited by hand on purpose) are left out
    unless ``every``. Links are never followed (a baseline holds none: refuse_links)."""
    out = {}
    for folder, dirs, files in os.walk(root, onerror=_walk_error):
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


def refuse_links(root: Path) -> None:
    """No symbolic link anywhere in a baseline: a link is how a pull request points the harness
    at a file outside it (a secret, a device, another cell's trace)."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root, onerror=_walk_error):
        dirs.sort()
        for name in sorted(dirs + files):
            entry = Path(folder) / name
            if os.path.islink(entry):
                raise CompatError(f"{entry}: is a symbolic link; a baseline holds no links, re-record it")


def _walk_error(exc: OSError) -> None:
    raise CompatError(f"{exc.filename}: cannot read it: {exc.strerror or exc}")


def _swap(tmp: Path, out: Path) -> None:
    """Replace `out` by `tmp`: one atomic exchange where the system has it (then `tmp` holds the
    old tree, which the caller removes), else two renames; the old tree is removed only
    afterwards either way. The new tree keeps the old folder's mode."""
    (tmp / tempdirs.OWNER).unlink(missing_ok=True)  # the finished baseline is nobody's temp dir
    os.chmod(tmp, _dir_mode(out))
    if out.exists() and tempdirs.exchange(tmp, out):
        (tmp / tempdirs.OWNER).write_text(f"{os.getpid()}\n")  # the old tree, swept if we die now
        return
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --- loading and checking ----------------------------------------------------------------------
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
        self.accepted = accepted_mod.load(self.path, [*self.surface.members, *self.surface.instance_attributes])
        self._reach = reach_mod.load(self.path) if read_reach else _UNREAD
        # what every report of a check against this baseline says before its verdict is trusted
        self.warnings: list[str] = hand_edits(self.path, self.manifest)

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

    def selection(self, python: str, search_paths: list[str], *, full: bool = False) -> reach_mod.Selection:
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
            chosen = reach_mod.everything([p.stem for p in files], self.program_ids(),
                                          f"the reach map is not this recording's ({foreign})")
        else:
            texts = {differential.program_id(i, p): json.dumps(p, sort_keys=True)
                     for i, p in enumerate(self._programs)}
            chosen = reach_mod.select(self.reach, [p.stem for p in files], self.program_ids(), python=python,
                                      search_paths=search_paths, full=full, program_texts=texts)
        replayed = set(chosen.cells)
        for path in files:
            if path.stem not in replayed:
                schemas.read_trace(path)
        return chosen


def static_findings(base: Baseline, new_surface, search_paths: list[str] | None = None) -> list[Finding]:
    """Surface rules plus profile checks (what a profile uses that the old side has and the new
    side changed); `search_paths` (where the new surface was read from) lets the profile checks
    also read the new base's actual calls of each override."""

    findings = list(compare_surfaces(base.surface, new_surface))
    for name, prof in base.profiles():
        for f in check_profile_change(prof, base.surface, new_surface, search_paths=search_paths):
            f.details = {**f.details, "profile": name}
            findings.append(f)
    return findings


def surface_label(surface) -> str:
    """A side named by what it is: `dagster 1.13.29` (a checkout says `dagster 1!0+dev`)."""
    return f"dagster {surface.generator.get('dagster', '?')}"

"""Recording a baseline: a step of the pipeline, run on the old side.

The surface (compat/static/extract.py), the profiles of the corpus and of the shipped real
subclass packages (compat/static/profile.py), one trace per behaviour cell and the stored fuzz
programs (run in workers of the recorded side's interpreter), and the reach map are written into
a temporary sibling of the baseline directory and swapped in with renames, so an interrupted
recording leaves the previous baseline loadable (the format: compat/model/baseline.py).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path
from typing import Callable

from packaging.version import InvalidVersion, Version

from compat import sides, tempdirs
from compat.baseline import check_replaceable_baseline, file_digests
from compat.behaviour import reach as reach_mod
from compat.behaviour import replay as behaviour_mod
from compat.fuzz import differential
from compat.gate import accepted as accepted_mod
from compat.model import jsonio
from compat.model.baseline import CORPUS_DIR, SCHEMA, SHIPPED_PROFILES, VERSION, refuse_links
from compat.model.errors import CompatError
from compat.model.profile import read_profile, write_profile
from compat.static.extract import DEFAULT_TARGET, side_surface, write_surface
from compat.static.profile import profile_source
from compat.static.profile_checks import check_profile


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
    selection: dict | None = None,
    fuzz_programs: int | None = None,
    progress: Callable[[str], None] = _noop,
    finish: Callable[[Path], None] | None = None,
) -> Path:
    """Record surface, profiles and traces into `out`, replacing it atomically. ``selection``
    narrows the cell set (``subclasses``, ``scenarios``, ``storages``: as `plan_cells` takes them)
    and is kept in the manifest, which must say which cells it holds. ``finish`` sees the
    finished recording before it is swapped in; what it raises leaves `out` untouched."""

    out = check_replaceable_baseline(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempdirs.make(f".{out.name}.", out.parent)
    try:
        progress("recording the surface")
        surface = _surface(python, target)
        write_surface(surface, tmp / "surface.json")
        profiles = record_profiles(tmp / "profiles", surface, python, target, progress)
        if behaviour:
            cell_set = cell_set or behaviour_mod.DEFAULT_CELL_SET
            selection = {k: list(v) for k, v in sorted((selection or {}).items()) if v} or None
            cells, programs = _record_behaviour(tmp, python, jobs=jobs, cell_set=cell_set, selection=selection,
                                                fuzz_programs=fuzz_programs, progress=progress)
        else:
            # a static re-record keeps the recorded behaviour layers; it was not asked to drop them
            cells, programs, cell_set, selection = _kept_behaviour(out, tmp, cell_set)
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
                **({"selection": selection} if selection and (behaviour or cells) else {}),
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


def _record_behaviour(tmp: Path, python: str | None, *, jobs: int, cell_set: str, selection: dict | None,
                      fuzz_programs: int | None, progress: Callable[[str], None]) -> tuple[int, int]:
    """The behaviour layers of a recording, written into `tmp`: one trace per cell of `cell_set`
    (narrowed by `selection`), the stored fuzz programs with their results, and the reach map of
    what both executed. Returns how many cells and programs were recorded."""
    progress(f"recording the {cell_set!r} behaviour cells with {jobs} worker(s)")
    lines: dict = {}
    cells = len(behaviour_mod.record(_python(python), str(tmp), jobs=jobs, cell_set=cell_set, reach=lines,
                                     **(selection or {})))
    wanted = differential.DEFAULT_STORED_PROGRAMS if fuzz_programs is None else fuzz_programs
    program_lines: dict = {"programs": {}, "startup": {}, "touched": {}}
    programs = 0
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
    return cells, programs


def _kept_behaviour(out: Path, tmp: Path, cell_set: str | None) -> tuple[int, int, str | None, dict | None]:
    """A static re-record's behaviour layers: those `out` holds, copied into `tmp`, with the cell
    set and selection its manifest names (none when it cannot be read). Returns the cells and
    programs kept, the cell set and the selection."""
    cells, programs = _keep_replay_layers(out, tmp)
    if not cells:
        return cells, programs, cell_set, None
    try:
        kept = jsonio.read_json(out / "manifest.json", schema=SCHEMA, versions=(VERSION,))
    except CompatError:
        return cells, programs, None, None
    return cells, programs, kept.get("cell_set"), kept.get("selection")

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

def record_profiles(dest: Path, surface, python, target, progress, dagster_paths: list[str] | None = None) -> list[str]:
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

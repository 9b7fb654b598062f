"""Which recorded cells and programs a new side must replay, read from the baseline's reach map.

:mod:`compat.behaviour.reach` builds the map while a baseline is recorded and argues why
replaying only what a change reaches is sound (its points 1 to 5); this module applies that
argument at check time: it compares the new side (its interpreter, its distributions, the
files and functions of dagster's packages, the metadata a worker read) with what the map
recorded, and returns the :class:`Selection` of cells and programs to replay with the reason
every other one keeps its recorded verdict.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compat.behaviour.reach import (HARNESS_DIRS, HARNESS_FILES, HARNESS_ROOT, HARNESS_SKIP, HASHED_DISTRIBUTIONS,
                                    SIGNATURE_CHARS, ModuleIndex, Reach, _words, file_digests, harness_digest,
                                    index_module, interpreter_info, mentions, package_files)
from compat.model.errors import CompatError
from compat.model.replay import replay_line
from compat.worker.recorder import HARNESS_PREFIX



# --- what a change can reach besides functions -----------------------------------------------------
_DIST_PROBE = (
    "import hashlib, importlib.metadata as m, json, sys\n"
    "names, files = json.loads(sys.argv[1])\n"
    "tops = {}\n"
    "for top, dists in (m.packages_distributions() if names else {}).items():\n"
    "    for d in dists:\n"
    "        name = d.lower().replace('_', '-').replace('.', '-')\n"
    "        if name in names:\n"
    "            tops.setdefault(name, []).append(top)\n"
    "digests = {}\n"
    "for key in files:\n"
    "    name, _, file = key.partition('/')\n"
    "    digests[key] = '-'\n"
    "    try:\n"
    "        dist = m.distribution(name)\n"
    "    except m.PackageNotFoundError:\n"
    "        continue\n"
    "    for f in dist.files or ():\n"
    "        if len(f.parts) == 2 and f.parts[0].endswith('.dist-info') and f.parts[1] == file:\n"
    "            p = f.locate()\n"
    "            try:\n"
    "                digests[key] = hashlib.sha256(p.read_bytes()).hexdigest()[:16]\n"
    "            except OSError:\n"
    "                pass\n"
    "print(json.dumps({'tops': tops, 'digests': digests}))\n"
)


def distribution_facts(python: str, names: list[str], files: list[str]) -> dict[str, Any]:
    """In ``python``: the top-level module names each of ``names`` provides, and the digest of
    each metadata file (``dist/file`` of its .dist-info; "-" when absent)."""
    proc = subprocess.run([python, "-c", _DIST_PROBE, json.dumps([names, files])], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": ""})
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise CompatError(f"cannot read the distributions of {python}: {tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def felt_distributions(reach: Reach, names: list[str], now: dict[str, str], python: str) -> list[str]:
    """Which of these changed distributions (another version, added or gone) a recorded cell can
    feel: one whose code or files a worker used; one a worker read metadata of that now reads
    otherwise (a new version's METADATA does); one providing a module name a worker asked for and
    never imported (an ``import x`` that failed, a look-up); and, when a worker listed a site
    folder (importlib.metadata's search: pydantic looks for plugins), one added or gone. The
    others ran no code and showed nothing different to any worker."""
    touched = reach.touched or {}
    reached = set(touched.get("distributions", ()))
    felt = {n for n in names if n in reached}
    if "*" in reached:
        felt |= {n for n in names if n not in now or n not in reach.dependencies}
    read = {k: v for k, v in touched.get("metadata", {}).items() if k.partition("/")[0] in set(names) - felt}
    asked = {name.split(".", 1)[0] for name in touched.get("asked", ())}
    rest = sorted(set(names) - felt)
    if rest and (read or asked):
        facts = distribution_facts(python, rest, sorted(read))
        felt |= {key.partition("/")[0] for key, digest in read.items() if facts["digests"].get(key) != digest}
        felt |= {n for n in rest if asked & set(facts["tops"].get(n, ()))}
    return sorted(felt)


def felt_own_metadata(reach: Reach, python: str) -> str | None:
    """The first metadata file of dagster's own distributions that a worker read and that reads
    otherwise now (its entry points, read at import by pydantic's plugin search): no file of its
    packages, so no digest of ``files`` covers it."""
    own = {k: v for k, v in (reach.touched or {}).get("metadata", {}).items()
           if k.partition("/")[0] in HASHED_DISTRIBUTIONS}
    if not own:
        return None
    now = distribution_facts(python, [], sorted(own))["digests"]
    return next((k for k, v in sorted(own.items()) if now.get(k) != v), None)


def _module_name(rel: str) -> str:
    parts = rel[:-3].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def felt_files(reach: Reach, now: set[str]) -> tuple[str | None, list[str]]:
    """Why a file added or removed since the recording can change a cell (None: none can), and
    the files added or removed that cannot. A module file
    can be reached only by its name (import, ``find_spec``) or by listing its folder, so an added
    one counts when a worker asked for its name or listed a folder above it, a removed one also
    when a worker imported it. A data file is looked for by path in ways no hook sees
    (``os.path.exists``), so any added or removed one counts."""
    touched = reach.touched or {}
    listed = set(touched.get("listed", ()))
    asked = set(touched.get("asked", ()))
    imported = set(reach.imported or ())

    def under_listed(rel: str) -> bool:
        parts = rel.split("/")
        return any("/".join(parts[:depth]) in listed for depth in range(1, len(parts)))

    def asked_for(rel: str) -> bool:
        name = _module_name(rel)
        return any(a == name or a.startswith(name + ".") for a in asked)

    quiet = []
    for verb, rels in (("added", sorted(now - set(reach.files))), ("removed", sorted(set(reach.files) - now))):
        for rel in rels:
            if not rel.endswith(".py"):
                return f"a data file was {verb} ({rel})", []
            if under_listed(rel):
                return f"a file was {verb} in a folder a worker listed ({rel})", []
            if asked_for(rel):
                return f"a file was {verb} under a module name a worker asked for ({rel})", []
            if verb == "removed" and rel in imported:
                return f"a module a worker imported was removed ({rel})", []
            quiet.append(rel)
    return None, quiet


# --- selecting what to replay --------------------------------------------------------------------
@dataclass
class Selection:
    """Which recorded cells and programs to replay on a new side, and why the others need not."""

    cells: list[str]  # stems to replay
    programs: list[str]  # program ids to replay
    total_cells: int
    total_programs: int
    reason: str  # why these: "full" replays or what the change reaches
    changed: list[str] = field(default_factory=list)  # the changed functions that decided it

    @property
    def everything(self) -> bool:
        return len(self.cells) == self.total_cells and len(self.programs) == self.total_programs

    def as_dict(self) -> dict[str, Any]:
        return {"cells_replayed": len(self.cells), "cells_total": self.total_cells,
                "programs_replayed": len(self.programs), "programs_total": self.total_programs,
                "reason": self.reason, "changed_functions": self.changed[:20],
                "changed_functions_total": len(self.changed)}

    def line(self) -> str:
        return replay_line(self.as_dict())


def everything(cells: list[str], programs: list[str], reason: str) -> Selection:
    return Selection(list(cells), list(programs), len(cells), len(programs), reason)


def signature_edits(reach: Reach, rel: str, index: ModuleIndex) -> list[str] | str:
    """The definitions of ``rel`` whose signature alone changed (qualnames), or why the change of
    its skeleton cannot be narrowed to them (then everything is replayed)."""
    whole = (f"module-level or class-level code changed in {rel} "
             "(definitions, imports, signatures, decorators or class bodies)")
    if reach.frames is None or reach.signatures is None or rel not in reach.frames:
        return whole
    if index.frame != reach.frames[rel]:
        return (f"module-level or class-level code changed in {rel} (a definition added, removed, moved or "
                "decorated otherwise, an import, a class body or a default that runs code)")
    old = reach.signatures.get(rel, "")
    if len(old) != len(index.signatures):
        return whole
    edited = [(name, narrowable) for i, (name, sig, narrowable) in enumerate(index.definitions)
              if old[i * SIGNATURE_CHARS:(i + 1) * SIGNATURE_CHARS] != sig]
    if not edited:
        return whole
    blind = [name for name, narrowable in edited if not narrowable]
    if blind:
        return (f"the signature of {rel}:{blind[0]} changed, and a decorator, a class decorator, a metaclass "
                "or a call that does not name it (a dunder) can read it")
    return [name for name, _ in edited]


def _harness_sources() -> dict[str, Path]:
    """The worker-side harness modules (what :func:`harness_digest` covers), by ``compat/...`` path."""
    root = HARNESS_ROOT / HARNESS_PREFIX.rstrip("/")
    paths = [p for d in HARNESS_DIRS for p in sorted((root / d).rglob("*.py"))] + [root / f for f in HARNESS_FILES]
    return {f"{HARNESS_PREFIX}{p.relative_to(root).as_posix()}": p for p in paths
            if "__pycache__" not in p.parts and p.is_file() and p.relative_to(root).as_posix() not in HARNESS_SKIP}


def naming(reach: Reach, names: set[str], files: dict[str, Path]) -> tuple[set[str], str | None]:
    """The recorded functions whose code names one of ``names`` (a member whose signature alone
    changed), read on the new side (an unchanged function reads as it did; a changed one is
    replayed anyway), or why no such set bounds who can reach them: a module or class body of
    an imported dagster module or of the harness names one (it may keep it at import for code
    that calls it without naming it)."""
    found: set[str] = set()
    sources = {**{rel: files[rel] for rel in (reach.imported or ()) if rel in files and rel.endswith(".py")},
               **_harness_sources()}
    needles = [n.encode() for n in names]
    for rel, path in sorted(sources.items()):
        data = path.read_bytes()
        if not any(n in data for n in needles):
            continue
        harness = rel.startswith(HARNESS_PREFIX)
        quals, outside = mentions(data, names, overrides=harness)
        if outside == "code" or outside and not harness:
            return found, f"{rel} names {'/'.join(sorted(names))} outside any function"
        found |= {f"{rel}:{q}" for q in quals}
        if outside:
            # a table of the harness (the fuzz operations by name, the settings a scenario reads):
            # only the code of its module or of a harness module importing it can read it
            readers = {rel} | {other for other, path in sources.items() if other.startswith(HARNESS_PREFIX)
                               and _imports(path.read_bytes(), _module_name(rel))}
            found |= {key for key in reach.functions if key.partition(":")[0] in readers}
    return found & set(reach.functions), None


def _imports(source: bytes, module: str) -> bool:
    """Whether this harness module imports ``module`` (the harness imports absolutely)."""
    if module.rpartition(".")[2].encode() not in source:
        return False
    package, _, last = module.rpartition(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name == module or a.name.startswith(module + ".") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module == module or node.module == package and any(
                a.name == last for a in node.names)):
            return True
    return False


def select(reach: Reach | None, cells: list[str], programs: list[str], *, python: str,
           search_paths: list[str], full: bool = False, program_texts: dict[str, str] | None = None) -> Selection:
    """The cells and programs the new side (``python`` importing dagster from ``search_paths``)
    must replay; see the module docstring of :mod:`compat.behaviour.reach` for why skipping the
    others is sound. ``program_texts`` (each stored program as JSON) tells which programs name a
    member whose signature changed; without it every program is replayed then."""
    if full:
        return everything(cells, programs, "a full replay was asked (--full)")
    if reach is None:
        return everything(cells, programs, "the baseline has no reach map (re-record it to replay only what a change reaches)")
    if set(cells) - set(reach.cells) or set(programs) - set(reach.programs):
        return everything(cells, programs, "the reach map does not cover every recorded cell")
    if reach.harness != harness_digest():
        return everything(cells, programs, "the harness's worker code changed since the recording")
    unfelt: list[str] = []  # what changed that no recorded worker touched
    whole = _interpreter_change(reach, python, unfelt)
    if whole:
        return everything(cells, programs, whole)
    files = package_files(search_paths)
    whole, changed_files = _changed_files(reach, files, unfelt)
    if whole:
        return everything(cells, programs, whole)
    whole, changed, edited = _changed_functions(reach, files, changed_files)
    if whole:
        return everything(cells, programs, whole)
    moved = felt_own_metadata(reach, python)
    if moved:
        return everything(cells, programs, f"metadata of dagster a worker read changed ({moved})")
    stateful = sorted(changed & set(reach.stateful))
    if stateful:
        return Selection(list(cells), list(programs), len(cells), len(programs),
                         f"a function run at start-up or keeping state across cells changed ({stateful[0]})",
                         sorted(changed))
    reaching = set(changed)
    named: set[str] = set()
    if edited:
        whole, named, naming_functions = _naming_reach(reach, edited, files)
        if whole:
            return Selection(list(cells), list(programs), len(cells), len(programs), whole, sorted(changed))
        reaching |= naming_functions
    picked_cells = [c for c in cells if reaching & set(reach.cells[c])]
    words = _words(named) if named else None
    picked_programs = [p for p in programs if reaching & set(reach.programs[p]) or words is not None and (
        program_texts is None or p not in program_texts or words.search(program_texts[p]))]
    return Selection(picked_cells, picked_programs, len(cells), len(programs),
                     _reason(edited, changed, changed_files, unfelt), sorted(changed))


def _interpreter_change(reach: Reach, python: str, unfelt: list[str]) -> str | None:
    """Why another interpreter, or other versions of dependencies a worker can feel, replay every
    cell (None: they do not); the changed dependencies no worker felt are added to ``unfelt``."""
    version, deps = interpreter_info(python)
    if version.rsplit(".", 1)[0] != reach.python.rsplit(".", 1)[0]:
        return f"another interpreter (python {version}, recorded on {reach.python})"
    if deps != reach.dependencies:
        names = sorted({name for name, _ in set(deps.items()) ^ set(reach.dependencies.items())})
        felt = names if reach.touched is None else felt_distributions(reach, names, deps, python)
        if felt:
            return f"other versions of {len(felt)} dependencies ({', '.join(felt[:5])})"
        unfelt.append(f"{len(names)} dependencies no worker imported or read ({', '.join(names[:3])})")
    return None


def _changed_files(reach: Reach, files: dict[str, Path], unfelt: list[str]) -> tuple[str | None, list[str]]:
    """Why a file added or removed replays every cell, or else the changed files of dagster's
    packages a worker imported or read; those it did not are added to ``unfelt``."""
    digests = file_digests(files)
    if reach.imported is None or reach.touched is None:  # a version 1 map: any file counts
        if set(digests) != set(reach.files):
            added, removed = sorted(set(digests) - set(reach.files)), sorted(set(reach.files) - set(digests))
            what = (f"{len(added)} files added ({added[0]})" if added else "") + (
                (", " if added and removed else "") + (f"{len(removed)} removed ({removed[0]})" if removed else ""))
            return f"the package's files changed: {what}", []
        relevant = set(digests)
    else:
        felt_file, quiet_files = felt_files(reach, set(digests))
        if felt_file:
            return felt_file, []
        if quiet_files:
            unfelt.append(f"{len(quiet_files)} files added or removed where no worker looked ({quiet_files[0]})")
        relevant = set(reach.imported) | set(reach.touched["opened"])
    changed_files = sorted(rel for rel, d in digests.items() if rel in reach.files and reach.files[rel] != d)
    quiet = [rel for rel in changed_files if rel not in relevant]
    if quiet:
        unfelt.append(f"{len(quiet)} changed files no worker imported or read ({quiet[0]})")
    return None, [rel for rel in changed_files if rel in relevant]


def _changed_functions(reach: Reach, files: dict[str, Path],
                       changed_files: list[str]) -> tuple[str | None, set[str], list[str]]:
    """Why the changed files replay every cell (a data file changed, or a skeleton beyond its
    signatures), or else the recorded functions whose hash changed and the definitions
    (``file:qualname``) whose signature alone changed."""
    changed: set[str] = set()
    edited: list[str] = []
    for rel in changed_files:
        if not rel.endswith(".py"):
            return f"a data file changed ({rel})", changed, edited
        index = index_module(files[rel].read_bytes(), str(files[rel]))
        if index.skeleton != reach.skeletons.get(rel):
            edits = signature_edits(reach, rel, index)
            if isinstance(edits, str):
                return edits, changed, edited
            edited += [f"{rel}:{name}" for name in edits]
        for key, old_hash in reach.functions.items():
            krel, _, name = key.partition(":")
            if krel == rel and index.functions.get(name) != old_hash:
                changed.add(key)
    return None, changed, edited


def _naming_reach(reach: Reach, edited: list[str], files: dict[str, Path]) -> tuple[str | None, set[str], set[str]]:
    """Why the signature edits replay every cell (code outside any function, or code run at
    start-up or keeping state, names an edited member), or else the members' names and the
    recorded functions naming them. A signature is felt by a call (which runs the function, or
    fails to bind it), by a look-up that reads it, or by nothing: every such piece of code names
    the member."""
    named = {key.rpartition(".")[2].rpartition(":")[2] for key in edited}
    naming_functions, outside = naming(reach, named, files)
    if outside:
        return f"the signature of {edited[0]} changed and {outside}", named, naming_functions
    at_startup = sorted(naming_functions & set(reach.stateful))
    if at_startup:
        return (f"the signature of {edited[0]} changed and a function run at start-up or keeping "
                f"state names it ({at_startup[0]})", named, naming_functions)
    return None, named, naming_functions


def _reason(edited: list[str], changed: set[str], changed_files: list[str], unfelt: list[str]) -> str:
    """Why the picked cells and programs are replayed and every other one keeps its verdict."""
    if edited:
        shown = ", ".join(edited[:3]) + (", ..." if len(edited) > 3 else "")
        reason = (f"the signature of {len(edited)} definitions changed ({shown}): the cells and programs that ran "
                  f"{'or named them' if not changed else 'them, named them or ran ' + str(len(changed)) + ' changed functions'}; "
                  "the others neither ran nor named them, so their verdict is the recorded one")
        if unfelt:
            reason += f" ({'; '.join(unfelt)})"
    elif unfelt and not changed:
        reason = f"{'; '.join(unfelt)}: every verdict is the recorded one"
    elif not changed_files:
        reason = "no file of dagster changed: every verdict is the recorded one"
    elif not changed:
        reason = (f"{len(changed_files)} changed files, no function any recorded cell or program executed changed: "
                  "every other verdict is the recorded one")
    else:
        reason = (f"{len(changed)} changed functions that recorded cells or programs executed "
                  f"({', '.join(sorted(changed)[:3])}{', ...' if len(changed) > 3 else ''}); "
                  "the others executed none of them, so their verdict is the recorded one")
        if unfelt:
            reason += f" ({'; '.join(unfelt)})"
    return reason

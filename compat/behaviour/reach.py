"""Change-aware replay: what each recorded cell executed, and whether the new side changed it.

When a baseline is recorded, every cell (and every stored fuzz program) runs under coverage.py
restricted to the packages of dagster itself (``dagster``, ``dagster_shared``,
``dagster_pipes``); the lines it executed are mapped onto the functions of the old side's
sources. The baseline keeps, in ``reach.json``: for each cell the functions it executed, a hash
of each such function, a hash of the *skeleton* of every module (everything but the bodies of
functions), the bytes' digest of every file of those packages, the functions the worker ran
while starting (imports, warm-up), the versions of every other installed distribution, the
interpreter and the harness code the cells ran. At check time only the cells that executed a
function whose hash differs on the new side are replayed; every other cell's verdict is the
recorded one. This module builds the map and the digests it holds; which cells a new side must
replay is decided from it by :mod:`compat.behaviour.selection`.

Why that is sound (the argument the test of the mutation self-check checks on every mutant):

1. A cell's outcome is a function of the code it executes and the state that code sees. The
   scenarios are deterministic and every cell starts from a fresh instance in a fresh
   directory, so the state is what earlier code left: import-time code (module and class
   bodies, decorators, defaults), code run while the worker started, and caches filled by
   earlier cells of the same worker.
2. Import-time code is the skeleton: with the skeleton of every module a worker imported
   equal, every module and class namespace binds the same names to the same kinds of objects,
   so every name a function looks up dynamically (globals, the MRO of a class, ``getattr`` on a
   class or module) resolves to the same definition as on the old side. A new override earlier
   in the MRO, a new module-level function shadowing an import, a moved method: each changes a
   skeleton, and then every cell is replayed. An edit of signatures alone keeps the module's
   *frame* (the skeleton without them): then only a call or a look-up of the function can feel
   it, and both are made by code that names the member, so the cells that ran the function or
   ran code naming it are replayed (:func:`compat.behaviour.selection.signature_edits` and
   :func:`~compat.behaviour.selection.naming`; a dunder, a decorator that may read the
   signature, or a module or class body naming the member replays everything;
   docs/change-aware-replay.md, "Signature edits"). A module no worker imported ran no code, so no
   edit of it reaches a cell. A file added or removed is seen only through its module name
   (an import, a look-up), a listing of its folder or an open of its path; the recording notes
   the names asked of the import system and never imported, the folders of dagster listed by
   code other than the import system, and the data files opened, and an added or removed
   module counts where one of those could see it, as does a removed module a worker imported
   and any added or removed data file (a path tested with ``os.path.exists`` leaves no trace).
3. Given equal skeletons, the new side runs code the old side did not run only where some
   function the cell executed behaves differently, and that function's body is then
   different: its hash differs, so the cell is replayed. A function the old side never
   executed can only be newly reached through a changed executed caller (3) or a changed
   resolution (2).
4. Code that can carry state from one cell into another: what the worker runs while starting
   (importing dagster), a function behind a cache decorator or declaring ``global`` or
   ``nonlocal``, and every function of a cell that imported a module (module-level lines of a
   module the start-up did not import ran in it): a change to any such function replays every
   cell, since the first cell to run it may have done the work for the cells after it.
5. Everything outside the hashed packages is judged by version: another interpreter, other
   harness code in the worker (scenarios, corpus, spies, normalizer), a data file of dagster a
   worker opened, and another version (or presence) of a distribution dagster or the harness
   requires (transitively, by the installed metadata) that a cell can feel: one a worker
   imported or opened a file of, one whose metadata a worker read and now reads otherwise (a
   new version's METADATA does; pydantic's plugin search reads every distribution's entry
   points), one providing a module name a worker asked for and never imported, and, when a
   worker listed a site folder, one added or gone. Any of these replays every cell; so does a
   baseline without a reach map (or with a version 1 map, which notes none of the above: any
   file or version change counts), and ``--full``.

What is left to trust: cells are deterministic (the harness's own property, checked by
recording twice), state escapes a cell only as in (4), no cell imports a distribution that
neither dagster nor the harness requires (linters or notebooks in a developer's venv do not
count, so they cost no replay), no code tests a path of dagster's own package without opening,
listing or importing it, and code learns a distribution's version only from its metadata; and,
for a signature edit, that code looks a member up by a name it writes (an attribute, a string)
rather than one it builds at run time, and that no inherited metaclass or ``__init_subclass__``
reads its subclasses' signatures.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from compat.worker.recorder import HARNESS_PREFIX, HASHED_PACKAGES, _canonical, _sha
from compat.envs import harness_requirements, requirement_closure
from compat.model import schemas
from compat.model.errors import CompatError

# the file's name and version are declared with its schema (compat.model.schemas.ReachFile)
SCHEMA, VERSION = schemas.REACH_SCHEMA, schemas.REACH_VERSION
TOUCHED = ("distributions", "metadata", "asked", "listed", "opened")
FILENAME = "reach.json"
HASHED_DISTRIBUTIONS = ("dagster", "dagster-shared", "dagster-pipes")
STARTUP = "<startup>"  # the pseudo-cell of what a worker runs before its first cell
# worker-side harness modules whose code decides what a cell does
HARNESS_DIRS = ("behaviour", "corpus", "fuzz", "worker")
HARNESS_FILES = ("model/trace.py", "channel.py", "tempdirs.py")
# parent-side modules of those folders: which cells exist, how traces are compared, what coverage
# reports; none of it runs in a worker, so editing it leaves a recorded trace what it was
HARNESS_SKIP = ("behaviour/replay.py", "behaviour/cells.py", "behaviour/compare.py", "behaviour/replay_rules.py",
                "behaviour/coverage.py", "behaviour/members.py", "behaviour/reach.py", "behaviour/selection.py")
HARNESS_ROOT = Path(__file__).resolve().parent.parent.parent  # holds compat/, as HARNESS_PREFIX names it
_STATEFUL_DECORATORS = ("cache", "lru_cache", "cached", "memoize", "memoized", "cached_method")


def merge_touches(into: dict[str, Any], touched: dict[str, Any] | None) -> None:
    """Union of what workers touched (the metadata digests of one interpreter agree)."""
    for key, values in (touched or {}).items():
        if isinstance(values, dict):
            into[key] = dict(sorted({**into.get(key, {}), **values}.items()))
        else:
            into[key] = sorted(set(into.get(key, ())) | set(values))


# --- static side ---------------------------------------------------------------------------------
def package_files(search_paths: Iterable[str]) -> dict[str, Path]:
    """Every file of the hashed packages on these paths (the first path holding a package wins),
    by its path relative to that root (``dagster/_core/instance/instance.py``)."""
    files: dict[str, Path] = {}
    for name in HASHED_PACKAGES:
        for root in search_paths:
            pkg = Path(root) / name
            if (pkg / "__init__.py").is_file():
                for p in sorted(pkg.rglob("*")):
                    if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith((".pyc", ".pyo")):
                        files[p.relative_to(root).as_posix()] = p
                break
    return files


def file_digests(files: dict[str, Path]) -> dict[str, str]:
    return {rel: _sha(p.read_bytes()) for rel, p in sorted(files.items())}


@dataclass
class ModuleIndex:
    """One module's functions (qualname -> hash, body line spans), its skeleton's hash, and
    which of its functions can keep state across cells; its *frame* (the skeleton without the
    signatures) and each definition's signature, in the order of the module."""

    skeleton: str
    functions: dict[str, str] = field(default_factory=dict)
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    stateful: set[str] = field(default_factory=set)
    empty: bool = False  # no statement but a docstring: importing it runs no line
    frame: str = ""
    # every module- and class-level def in source order: (qualname, signature hash, narrowable)
    definitions: list[tuple[str, str, bool]] = field(default_factory=list)

    @property
    def signatures(self) -> str:
        """The definitions' signature hashes, SIGNATURE_CHARS each, in source order."""
        return "".join(h for _, h, _ in self.definitions)

    def function_at(self, line: int) -> str | None:
        """The function whose body holds ``line`` (bodies of module- and class-level defs never
        overlap: a nested def is part of its enclosing function)."""
        if not hasattr(self, "_by_line"):
            self._by_line = {n: name for first, last, name in self.spans for n in range(first, last + 1)}
        return self._by_line.get(line)


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


SIGNATURE_CHARS = 8
# decorators that do not read the function's signature, neither when applied nor when called:
# a signature edit under them is seen only by what calls or names the function
SIGNATURE_BLIND = ("property", "cached_property", "setter", "getter", "deleter", "staticmethod", "classmethod",
                   "abstractmethod", "overload", "public", "traced")
# expression nodes whose evaluation (defaults always, annotations without ``from __future__ import
# annotations``) runs no code of the module's own and leaves no state: a name, an attribute, a
# constant, a subscript or a union of those (typing's caches hold what they compute, nothing else)
_INERT = (ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Tuple, ast.List, ast.Load, ast.BinOp,
          ast.BitOr, ast.UnaryOp, ast.USub, ast.Slice)


def _inert(node: ast.AST | None) -> bool:
    return node is None or all(isinstance(n, _INERT) for n in ast.walk(node))


def _frame_marker(node: ast.FunctionDef | ast.AsyncFunctionDef, lazy_annotations: bool) -> ast.stmt:
    """What of a def stays in the module's frame: its kind, name and decorators, and every default
    or annotation whose evaluation at import could run code (those must stay what they were)."""
    args = node.args
    defaults = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    annotations = [] if lazy_annotations else [
        a.annotation for a in [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]
        if a is not None and a.annotation is not None] + [node.returns]
    eager = [ast.dump(e) for e in [*defaults, *annotations] if not _inert(e)]
    text = (f"{type(node).__name__} {node.name} decorators={[ast.dump(d) for d in node.decorator_list]} "
            f"eager={eager}")
    return ast.Expr(ast.Constant(text))


def index_module(source: bytes | str, where: str = "?") -> ModuleIndex:
    """Functions and skeleton of a module. A function is a def at module or class level (nested
    defs, lambdas and comprehensions belong to it); the skeleton is the module with each such
    function's body replaced by ``...``, positions left out, so a body edit never changes it.
    The frame is the skeleton with each def reduced further to its kind, name, decorators and the
    defaults and annotations that run code at import: equal frames with unequal skeletons mean
    only signatures changed, and the definitions' signature hashes (in source order, which equal
    frames keep) tell which."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        raise CompatError(f"{where}: cannot parse ({exc})") from None
    dumps: dict[str, list[str]] = {}
    spans: list[tuple[int, int, str]] = []
    stateful: set[str] = set()
    definitions: list[tuple[str, str, bool]] = []
    markers: list[tuple[list[ast.stmt], int, ast.stmt]] = []
    lazy = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
               for n in tree.body)

    def walk(body: list[ast.stmt], prefix: str, plain_class: bool = True) -> None:
        for position, node in enumerate(body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + node.name
                dumps.setdefault(name, []).append(ast.dump(node))
                # coverage reports a body that is only a docstring on the def line (which also
                # runs at import: such a function counts as run at start-up, see point 4)
                only_doc = len(node.body) == 1 and isinstance(node.body[0], ast.Expr) and isinstance(
                    node.body[0].value, ast.Constant)
                first = node.lineno if only_doc else node.body[0].lineno
                spans.append((first, node.end_lineno or node.body[-1].lineno, name))
                if any(_decorator_name(d) in _STATEFUL_DECORATORS for d in node.decorator_list) or any(
                        isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(node)):
                    stateful.add(name)
                node.body = [ast.Expr(ast.Constant(...))]
                # a dunder is called without being named (construction, operators), a decorator
                # outside SIGNATURE_BLIND or a class decorator or metaclass may read the signature
                narrowable = plain_class and not (node.name.startswith("__") and node.name.endswith("__")) and all(
                    _decorator_name(d) in SIGNATURE_BLIND for d in node.decorator_list)
                definitions.append((name, _sha(ast.dump(node))[:SIGNATURE_CHARS], narrowable))
                markers.append((body, position, _frame_marker(node, lazy)))
            elif isinstance(node, ast.ClassDef):
                walk(node.body, prefix + node.name + ".",
                     plain_class and not node.keywords
                     and all(_decorator_name(d) in SIGNATURE_BLIND for d in node.decorator_list))
            else:
                for attr in ("body", "orelse", "handlers", "finalbody", "cases"):
                    inner = getattr(node, attr, None)
                    if isinstance(inner, list) and inner and isinstance(inner[0], (ast.stmt, ast.excepthandler,
                                                                                    ast.match_case)):
                        if attr in ("handlers", "cases"):
                            for h in inner:
                                walk(h.body, prefix, plain_class)
                        else:
                            walk(inner, prefix, plain_class)

    empty = all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in tree.body)
    walk(tree.body, "")
    skeleton = _sha(ast.dump(tree))
    for body, position, marker in markers:
        body[position] = marker
    return ModuleIndex(skeleton=skeleton, functions={k: _sha("\n".join(v)) for k, v in dumps.items()},
                       spans=spans, stateful=stateful, empty=empty, frame=_sha(ast.dump(tree)),
                       definitions=definitions)


def _mentions_name(node: ast.AST, names: set[str], words: re.Pattern) -> bool:
    """Whether ``node`` names one of ``names``: an attribute, a name, a keyword, an import, or a
    string that can be a look-up of it (:func:`_keys`)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr in names or isinstance(n, ast.Name) and n.id in names:
            return True
        if isinstance(n, ast.keyword) and n.arg in names or isinstance(n, ast.alias) and (
                n.name.rpartition(".")[2] in names or n.asname in names):
            return True
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and words.match(n.value):
            return True
    return False


def mentions(source: bytes | str, names: set[str], overrides: bool = False) -> tuple[set[str], str | None]:
    """The module- and class-level functions (qualnames) whose code names one of ``names``
    (:func:`_mentions_name`), with ``overrides`` also those defined under one of them (a corpus
    subclass's own ``m``), and whether the module's own code outside them names one (a module or
    class body: what it names may be kept at import for code that does not): None when it does
    not, "data" when only statements that call nothing do (a table of names or functions: only
    code reading it can use it), "code" when a statement that calls something does (it may hand
    the member to anything)."""
    tree = ast.parse(source)
    words = _keys(names)
    found: set[str] = set()
    outside: str | None = None

    def note(parts: list[Any]) -> None:
        nonlocal outside
        nodes = [n for n in _flat(parts) if isinstance(n, ast.AST)]
        if any(_mentions_name(n, names, words) for n in nodes):
            calls = any(isinstance(x, ast.Call) for n in nodes for x in ast.walk(n))
            outside = "code" if calls or outside == "code" else "data"

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # an override of the member counts as naming it (a subclass's own ``m``)
                if overrides and node.name in names or _mentions_name(node, names, words):
                    found.add(prefix + node.name)
            elif isinstance(node, ast.ClassDef):
                note([*node.bases, *node.keywords, *node.decorator_list])
                walk(node.body, prefix + node.name + ".")
            else:
                heads: list[Any] = []
                for key, value in ast.iter_fields(node):
                    if key in ("body", "orelse", "finalbody") and value and isinstance(value[0], ast.stmt):
                        walk(value, prefix)
                    elif key in ("handlers", "cases"):
                        for part in value:
                            walk(part.body, prefix)
                            heads += [v for k, v in ast.iter_fields(part) if k != "body"]
                    else:
                        heads.append(value)
                note(heads)

    walk(tree.body, "")
    return found, outside


def _flat(values: list[Any]) -> Iterable[Any]:
    for v in values:
        if isinstance(v, list):
            yield from _flat(v)
        else:
            yield v


def _keys(names: set[str]) -> re.Pattern:
    """A string that can be a look-up of one of ``names``: the name itself (``getattr(x, "m")``) or
    a dotted or colon path ending in it (``"pkg.mod:m"``); a message or a code template that
    merely holds the word is not one."""
    return re.compile(r"^(?:[\w.]*[.:])?(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")$")


def _words(names: set[str]) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")(?![A-Za-z0-9_])")


def module_code_files(lines: dict[str, list[int]], indexes: dict[str, ModuleIndex]) -> set[str]:
    """The files whose module-level code (lines outside every function) ran."""
    return {rel for rel, nums in lines.items() if (index := indexes.get(rel)) is not None
            and any(index.function_at(n) is None for n in nums)}


def executed_functions(lines: dict[str, list[int]], indexes: dict[str, ModuleIndex]) -> set[str]:
    """``file:qualname`` of every function whose body ran one of these lines (lines outside any
    function are module or class bodies: the skeleton's)."""
    out = set()
    for rel, nums in lines.items():
        index = indexes.get(rel)
        if index is None:
            continue
        for n in nums:
            name = index.function_at(n)
            if name is not None:
                out.add(f"{rel}:{name}")
    return out


# --- the recorded map ----------------------------------------------------------------------------
@dataclass
class Reach:
    """What the baseline's cells executed, and what to compare on a new side."""

    python: str
    harness: str
    dependencies: dict[str, str]
    files: dict[str, str]  # file -> digest of its bytes, every file of the hashed packages
    skeletons: dict[str, str]  # python file -> skeleton hash
    functions: dict[str, str]  # file:qualname -> hash, every function some cell executed
    stateful: list[str]  # functions run at start-up or able to carry state across cells
    cells: dict[str, list[str]]  # trace file stem -> the functions it executed
    programs: dict[str, list[str]] = field(default_factory=dict)  # stored program id -> functions
    # what the recording touched besides functions (None in a version 1 map: then any change of a
    # file or a dependency replays everything): the files of the hashed packages it imported, and
    # Touches' distributions, module names asked for, listed folders and opened data files
    imported: list[str] | None = None
    touched: dict[str, Any] | None = None
    # version 3: per imported module, its frame (the skeleton without signatures) and its
    # definitions' signature hashes in source order; cells and programs list the harness
    # functions they ran too (``compat/...``), which never count as changed (point 4)
    frames: dict[str, str] | None = None
    signatures: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Canonical JSON; a cell's functions are written as ranges of indices into the sorted
        function table (``"0-41,57,60-63"``), which keeps the file small enough to review."""
        order = sorted(self.functions)
        index = {k: i for i, k in enumerate(order)}

        def packed(keys: Iterable[str]) -> str:
            return ranges(index[k] for k in keys)

        data = {"schema": SCHEMA, "schema_version": VERSION, "python": self.python, "harness": self.harness,
                "dependencies": dict(sorted(self.dependencies.items())), "files": dict(sorted(self.files.items())),
                "skeletons": dict(sorted(self.skeletons.items())),
                "functions": {k: self.functions[k] for k in order}, "stateful": packed(self.stateful),
                "cells": {k: packed(v) for k, v in sorted(self.cells.items())},
                "programs": {k: packed(v) for k, v in sorted(self.programs.items())}}
        if self.imported is not None and self.touched is not None:
            file_index = {k: i for i, k in enumerate(sorted(self.files))}
            data["imported"] = ranges(file_index[k] for k in self.imported)
            data["touched"] = {k: self.touched[k] for k in TOUCHED}
            if self.frames is not None and self.signatures is not None:
                data["frames"] = dict(sorted(self.frames.items()))
                data["signatures"] = dict(sorted(self.signatures.items()))
            else:
                data["schema_version"] = 2
        else:
            data["schema_version"] = 1
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reach:
        order = list(data["functions"])

        def unpacked(text: str) -> list[str]:
            return _picked(order, text)

        imported = _picked(sorted(data["files"]), data["imported"]) if "imported" in data else None
        return cls(python=data["python"], harness=data["harness"], dependencies=data["dependencies"],
                   files=data["files"], skeletons=data["skeletons"], functions=data["functions"],
                   stateful=unpacked(data["stateful"]), cells={k: unpacked(v) for k, v in data["cells"].items()},
                   programs={k: unpacked(v) for k, v in data["programs"].items()}, imported=imported,
                   touched=data.get("touched"), frames=data.get("frames"), signatures=data.get("signatures"))


def ranges(numbers) -> str:
    """Integers as sorted runs, "1-3,7": line numbers, cell indices."""
    numbers, out, i = sorted(numbers), [], 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        out.append(str(numbers[i]) if i == j else f"{numbers[i]}-{numbers[j]}")
        i = j + 1
    return ",".join(out)


def _picked(table: list[str], text: str) -> list[str]:
    """The entries of ``table`` that :func:`ranges` wrote as ``text``, a slice per run."""
    out: list[str] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        out.extend(table[int(first):int(last or first) + 1])
    return out


def harness_digest(root: Path | None = None) -> str:
    """The worker-side harness code: scenarios, corpus, spies, the normalizer, the workers (what
    a cell runs; a change there replays everything, see point 5)."""
    root = root or Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    paths = [p for d in HARNESS_DIRS for p in sorted((root / d).rglob("*.py"))] + [root / f for f in HARNESS_FILES]
    for p in paths:
        if "__pycache__" in p.parts or not p.is_file() or p.relative_to(root).as_posix() in HARNESS_SKIP:
            continue
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


# the first distribution of a name on sys.path is the one imported, as in ``import``
_PROBE = (
    "import importlib.metadata as m, json, sys\n"
    "out = {}\n"
    "for d in m.distributions():\n"
    "    name = (d.metadata['Name'] or '').lower().replace('_', '-').replace('.', '-')\n"
    "    if name and name not in out:\n"
    "        out[name] = [d.version, d.requires or []]\n"
    "print(json.dumps({'python': '%d.%d.%d' % sys.version_info[:3], 'distributions': out}))\n"
)


def interpreter_info(python: str) -> tuple[str, dict[str, str]]:
    """The interpreter's version, and the version of every distribution dagster or the harness
    requires (transitively) but the hashed ones: what a cell can import besides dagster's own
    packages. A linter or a notebook installed beside them does not count."""
    proc = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": ""})
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise CompatError(f"cannot list the distributions of {python}: {tail}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    dists = {name: (version, requires) for name, (version, requires) in data["distributions"].items()}
    closure = requirement_closure(dists, [*HASHED_DISTRIBUTIONS, *harness_requirements()])
    return data["python"], {k: v for k, v in closure.items() if k not in HASHED_DISTRIBUTIONS}


def imported_files(indexes: dict[str, ModuleIndex], modules: Iterable[str],
                   lines: Iterable[dict[str, list[int]]]) -> set[str]:
    """The files of the hashed packages a recording imported: the modules the workers held, every
    file some of whose lines ran, the packages above them, and every file with no statement
    (an import of it leaves no line, so it counts as imported whatever happened)."""
    out = {rel for rel in modules if rel in indexes}
    for one in lines:
        out |= {rel for rel, nums in one.items() if nums and rel in indexes}
    for rel in list(out):
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            init = "/".join(parts[:depth]) + "/__init__.py"
            if init in indexes:
                out.add(init)
    return out | {rel for rel, index in indexes.items() if index.empty}


def build(python: str, search_paths: list[str], startup: dict[str, list[int]],
          cells: dict[str, dict[str, list[int]]], programs: dict[str, dict[str, list[int]]] | None = None,
          touched: dict[str, list[str]] | None = None) -> Reach:
    """The reach map of a recording: ``cells``/``programs`` are the lines each one executed,
    ``startup`` what the workers executed before their first cell (union over workers),
    ``touched`` what else the workers reached (:class:`Touches`, merged over workers)."""
    files = package_files(search_paths)
    indexes = {rel: index_module(p.read_bytes(), str(p)) for rel, p in files.items() if rel.endswith(".py")}
    version, deps = interpreter_info(python)
    # the harness's functions each cell ran, beside dagster's (a recording from before version 3
    # has none): which code of a cell names a member whose signature changed (see select)
    ran = {rel for one in [startup, *cells.values(), *(programs or {}).values()] for rel in one}
    own = {rel: index_module((HARNESS_ROOT / rel).read_bytes(), rel) for rel in sorted(ran)
           if rel.startswith(HARNESS_PREFIX) and rel.endswith(".py") and (HARNESS_ROOT / rel).is_file()}
    every = {**indexes, **own}
    per_cell = {stem: executed_functions(lines, every) for stem, lines in cells.items()}
    per_program = {pid: executed_functions(lines, every) for pid, lines in (programs or {}).items()}
    started = executed_functions(startup, every)
    used = started.union(*per_cell.values(), *per_program.values())
    functions = {}
    for key in used:
        rel, _, name = key.partition(":")
        functions[key] = every[rel].functions[name]
    stateful = started | {k for k in used if k.partition(":")[2] in every[k.partition(":")[0]].stateful}
    # a cell that ran module-level code of a module the start-up did not run imported it: what
    # it ran may have been that import's work, done once for the cells after it (see point 4);
    # module code the start-up ran too is a script run each time (alembic's env.py)
    at_startup = module_code_files(startup, indexes)
    for lines, keys in [(cells[s], per_cell[s]) for s in cells] + [(programs[p], per_program[p]) for p in programs or {}]:
        if module_code_files(lines, indexes) - at_startup:
            stateful |= keys
    imported = frames = signatures = None
    if touched is not None:
        imported = sorted(imported_files(indexes, touched.get("modules", ()),
                                         [startup, *cells.values(), *(programs or {}).values()]))
        touched = {k: dict(sorted(touched.get(k, {}).items())) if k == "metadata" else sorted(touched.get(k, ()))
                   for k in TOUCHED}
        frames = {rel: indexes[rel].frame for rel in imported if rel in indexes}
        signatures = {rel: indexes[rel].signatures for rel in imported if rel in indexes}
    return Reach(python=version, harness=harness_digest(), dependencies=deps, files=file_digests(files),
                 skeletons={rel: ix.skeleton for rel, ix in indexes.items()}, functions=functions,
                 stateful=sorted(stateful), cells={k: sorted(v) for k, v in per_cell.items()},
                 programs={k: sorted(v) for k, v in per_program.items()}, imported=imported, touched=touched,
                 frames=frames, signatures=signatures)


def write(reach: Reach, baseline_dir: str | os.PathLike[str]) -> Path:
    from compat.model.jsonio import write_json

    return write_json(Path(baseline_dir) / FILENAME, reach.as_dict(), 2)


def load(baseline_dir: str | os.PathLike[str]) -> Reach | None:
    """The baseline's reach map, validated; None when it has none (then everything replays)."""
    path = Path(baseline_dir) / FILENAME
    if not path.exists():
        return None
    return Reach.from_dict(schemas.read_reach(path))

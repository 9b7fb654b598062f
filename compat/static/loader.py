"""Static module loading with griffe, one file at a time, only where resolution leads.

griffe's default `griffe.load("dagster")` visits the whole package (hundreds of modules).
The surface of one class needs only the module that defines it, the modules of its bases
(transitively), and the modules its import paths pass through. `StaticLoader` visits exactly
those files with `griffe.visit` and follows aliases (imports) on demand. Nothing is imported
or executed, so it works on an unpacked wheel or a source tree as well as on site-packages.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import griffe

from compat.model.errors import CompatError

# Modules whose classes are never flattened into a surface: their members belong to Python.
EXTERNAL_ROOTS = frozenset(sys.stdlib_module_names) | {"typing_extensions", "builtins"}


@dataclass
class SourceFile:
    module: str
    path: Path
    root: Path  # the search path it was found under
    text: str
    sha256: str

    @property
    def relpath(self) -> str:
        return self.path.relative_to(self.root).as_posix()


class StaticLoader:
    """Finds, visits and caches modules under a list of search paths."""

    def __init__(self, search_paths: list[str]):
        self.search_paths = [Path(p) for p in search_paths]
        self.modules: dict[str, griffe.Module | None] = {}
        self.files: dict[str, SourceFile] = {}
        self._ast: dict[str, ast.Module] = {}
        self.collection = griffe.ModulesCollection()
        self.lines = griffe.LinesCollection()

    # -- finding and visiting -------------------------------------------------------------
    def find(self, module: str) -> tuple[Path, Path] | None:
        """(file, root) for a dotted module name, or None when no search path has it."""
        parts = module.split(".")
        for root in self.search_paths:
            base = root.joinpath(*parts)
            for cand in (base / "__init__.py", base.with_suffix(".py")):
                if cand.is_file():
                    return cand, root
        return None

    def is_external(self, dotted: str) -> bool:
        return dotted.split(".", 1)[0] in EXTERNAL_ROOTS

    def module(self, name: str) -> griffe.Module | None:
        """The griffe module for `name`, visiting its file once; None when it is not found."""
        if name in self.modules:
            return self.modules[name]
        if self.is_external(name):
            self.modules[name] = None
            return None
        found = self.find(name)
        if found is None:
            self.modules[name] = None
            return None
        path, root = found
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CompatError(f"cannot read {path}: {exc}") from None
        self.files[name] = SourceFile(name, path, root, text, hashlib.sha256(text.encode()).hexdigest())
        # Parent packages first, so relative imports and `parent` links resolve.
        parent = None
        if "." in name:
            parent = self.module(name.rsplit(".", 1)[0])
        try:
            mod = griffe.visit(
                name.rsplit(".", 1)[-1] if parent is not None else name,
                path,
                text,
                parent=parent,
                lines_collection=self.lines,
                modules_collection=self.collection,
            )
        except SyntaxError as exc:
            raise CompatError(f"cannot parse {path}: {exc.msg} (line {exc.lineno})") from None
        if parent is not None:
            parent.set_member(mod.name, mod)
        else:
            self.collection.set_member(mod.name, mod)
        self.modules[name] = mod
        return mod

    def ast_of(self, module: str) -> ast.Module:
        if module not in self._ast:
            self._ast[module] = ast.parse(self.files[module].text)
        return self._ast[module]

    # -- resolution -----------------------------------------------------------------------
    def resolve(self, dotted: str, _depth: int = 0) -> griffe.Object | None:
        """Follow a dotted path through modules and aliases to the object it names.

        Returns None when the path does not resolve (missing module, missing member, or an
        external object such as `typing.Protocol`).
        """
        if _depth > 30 or not dotted:
            return None
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            mod_name = ".".join(parts[:i])
            if self.is_external(mod_name):
                return None
            mod = self.module(mod_name)
            if mod is None:
                continue
            obj: griffe.Object | griffe.Alias = mod
            for j, part in enumerate(parts[i:], start=i):
                members = obj.members if not isinstance(obj, griffe.Alias) else None
                if members is None or part not in members:
                    # maybe a submodule not yet visited
                    sub = self.module(".".join(parts[: j + 1])) if obj.is_module else None
                    if sub is None:
                        return None
                    obj = sub
                    continue
                obj = members[part]
                if isinstance(obj, griffe.Alias):
                    target = self.resolve(obj.target_path, _depth + 1)
                    if target is None:
                        return None
                    obj = target
            return obj  # type: ignore[return-value]
        return None

    def canonical(self, obj: griffe.Object) -> str:
        return obj.path

    def digest(self) -> dict[str, str]:
        """sha256 of every file visited so far, by module (for content-keyed caching)."""
        return {name: f.sha256 for name, f in sorted(self.files.items())}


def distribution_version(search_paths: list[str], package: str = "dagster") -> str | None:
    """The version of `package` found under the search paths, read statically.

    Prefers the dist-info/egg-info metadata; falls back to `<package>/version.py`.
    """
    import re

    for root in map(Path, search_paths):
        for meta in sorted(root.glob(f"{package}-*.dist-info")) + sorted(root.glob(f"{package}-*.egg-info")):
            m = re.match(rf"{package}-(.+?)\.(dist|egg)-info$", meta.name)
            if m and (root / package).is_dir():
                return m.group(1)
        vfile = root / package / "version.py"
        if vfile.is_file():
            m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", vfile.read_text())
            if m:
                return m.group(1)
    return None

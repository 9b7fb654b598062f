"""The typing witnesses: the same kind of program, written with the old annotations, for a checker.

Where no runtime witness proves an annotation or signature change, :func:`typing_program`
writes an override of each member with its old annotations and a typed caller that passes the
old argument types and keeps the old result type, importing each annotation's names where the
old side's modules bind them (:class:`_OldModules`). :mod:`compat.witness` type-checks them on
both sides (:mod:`compat.typecheck`).
"""

from __future__ import annotations

import ast
from pathlib import Path

from compat.causes import Cause
from compat.model.surface import KEYWORD_ONLY, METHOD, POSITIONAL_ONLY, Member, Surface
from compat.rules.base import bound_params
from compat.witness_programs import _header


# kinds a typing witness is written for, when no runtime witness proves them
_TYPED_KINDS = ("annotations", "member")


def _bindings(module: str, path: Path) -> dict[str, str]:
    """What each module-level name of the old side's `module` is bound to, as an import line a
    program can write: its own imports (those under `if TYPE_CHECKING:` too, which a checker sees)
    and its own classes and assignments."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError):
        return {}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: dict[str, str] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                for a in node.names:
                    if a.name != "*":
                        local = a.asname or a.name
                        out.setdefault(local, f"from {base} import {a.name}" + (f" as {local}" if a.asname else ""))
            elif isinstance(node, ast.Import):
                for a in node.names:
                    local = a.asname or a.name.partition(".")[0]
                    out.setdefault(local, f"import {a.name}" + (f" as {a.asname}" if a.asname else ""))
            elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                out.setdefault(node.name, f"from {module} import {node.name}")
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(t, ast.Name):
                        out.setdefault(t.id, f"from {module} import {t.id}")
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return out


def _annotation_names(text: str) -> set[str] | None:
    """The names an annotation's text uses (string forward references included); None when it
    does not parse."""
    try:
        node = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    names: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            names.add(n.id)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            inner = _annotation_names(n.value)
            if inner is None:
                return None
            names |= inner
    return names


_BUILTIN_NAMES = frozenset(dir(__import__("builtins")))


class _OldModules:
    """The old side's module sources, found where its interpreter imports them from."""

    def __init__(self, python: str):
        self.python = python
        self._roots: list[str] | None = None
        self._bindings: dict[str, dict[str, str]] = {}

    def bindings(self, module: str) -> dict[str, str]:
        if module not in self._bindings:
            if self._roots is None:
                from compat import envs

                self._roots = envs.interpreter_paths(self.python)
            found: dict[str, str] = {}
            rel = Path(*module.split("."))
            for root in self._roots:
                for path in (Path(root) / rel / "__init__.py", Path(root) / rel.with_suffix(".py")):
                    if path.is_file():
                        found = _bindings(module, path)
                        break
                if found:
                    break
            self._bindings[module] = found
        return self._bindings[module]


def _typed_signature(m: Member, resolve, imports: set[str]) -> tuple[str, str, list[str]] | None:
    """(parameters text after self, return text, the call's argument text) of `m` as its old
    annotations spell them, every name they use imported; None when a name cannot be found."""

    def ann(text: str | None) -> str | None:
        if not text:
            return None
        names = _annotation_names(text)
        if names is None:
            return None
        for name in sorted(names):
            line = resolve(name)
            if line is None and name not in _BUILTIN_NAMES:
                raise LookupError(name)
            if line is not None:
                imports.add(line)
        return text

    try:
        parts, args, star = [], [], False
        params = bound_params(m)
        for p in params:
            a = ann(p.annotation)
            spelled = p.name + (f": {a}" if a else "")
            if p.kind == KEYWORD_ONLY and not star:
                parts.append("*")
                star = True
            if p.kind == "var-positional":
                parts.append("*" + spelled)
                star = True
                continue
            if p.kind == "var-keyword":
                parts.append("**" + spelled)
                continue
            parts.append(spelled + (" = _OLD_DEFAULT" if p.default is not None else ""))
            if p.kind == POSITIONAL_ONLY and not any(q.kind == POSITIONAL_ONLY for q in params[params.index(p) + 1:]):
                parts.append("/")
            args.append(p.name if p.kind == POSITIONAL_ONLY else f"{p.name}={p.name}")
        returns = ann(m.signature.returns if m.signature else None)
    except LookupError:
        return None
    return ", ".join(parts), returns or "", args


def typing_program(c: Cause, old: Surface, target: str, modules: _OldModules) -> tuple[str | None, str]:
    """The typing witness of an annotation or signature change: an override of each member with
    its old annotations, and a typed caller that passes the old argument types and keeps the old
    result type. A checker accepts it against the old side; rejecting it against the new proves
    the cause for type-checked code."""
    members = sorted({f.member for f in c.findings if f.source == "surface" and f.member in old.members})
    imports: set[str] = set()
    overrides, callers = [], []
    for name in members:
        m = old.members[name]
        if m.signature is None or m.kind not in (METHOD, "property", "cached_property") \
                or (name.startswith("__") and name.endswith("__")) or any("overload" in d for d in m.decorators):
            continue
        module = m.defined_in.rpartition(".")[0]

        def resolve(n: str, module: str = module) -> str | None:
            return modules.bindings(module).get(n)

        typed = _typed_signature(m, resolve, imports)
        if typed is None:
            continue
        params, returns, args = typed
        arrow = f" -> {returns}" if returns else ""
        if m.kind == METHOD:
            overrides.append(f"    def {name}(self{', ' + params if params else ''}){arrow}:\n"
                             f"        raise NotImplementedError\n")
            keep = f"result_{name}: {returns} = " if returns and returns != "None" else ""
            callers.append(f"def call_{name}(instance: Base{', ' + params if params else ''}) -> None:\n"
                           f"    {keep}instance.{name}({', '.join(args)})\n")
        else:
            overrides.append(f"    @property\n    def {name}(self){arrow}:\n        raise NotImplementedError\n")
            if returns:
                callers.append(f"def read_{name}(instance: Base) -> None:\n"
                               f"    result_{name}: {returns} = instance.{name}\n")
    if not overrides:
        return None, "no member whose old annotations a typed program can spell"
    head = ("from typing import Any\n\n" + _header(target) + "".join(f"{ln}\n" for ln in sorted(imports))
            + "\n_OLD_DEFAULT: Any = None\n")
    body = ("\n\nclass OldOverride(Base):\n    # a typed subclass written against the old annotations\n"
            + "\n".join(overrides)
            + "\n\n# typed callers: the old argument types in, the old result type kept\n"
            + "\n\n".join(callers))
    return head + body, ""

"""Where each member of the target is defined: run inside any dagster version's interpreter.

``python -m compat.behaviour.members MODULE:CLASS`` prints one JSON object: the directory of
the target's package (``dagster/_core/instance`` for DagsterInstance) and, for every public and
protected member the class resolves (the first definition along its MRO, the one a subclass
reaches), its kind, the class that defines it, the file and lines of its body (the
docstring excluded), and the parameters a caller can give a non-default value. Members whose code lies outside the package (inherited from a generic
base) and data attributes are listed with ``file: null``: there is no line of the target to run.

Imports: the standard library, :mod:`compat.behaviour.paramcov` (standard library only), and the
target itself.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import sys
from typing import Any

from compat.behaviour.paramcov import member_functions, parameters


def _functions(member: Any) -> list[Any]:
    if isinstance(member, property):
        return [f for f in (member.fget, member.fset, member.fdel) if f is not None]
    if isinstance(member, (classmethod, staticmethod)):
        return [member.__func__]
    func = getattr(member, "func", None)  # functools.cached_property and friends
    if callable(member) and hasattr(member, "__code__"):
        return [member]
    if func is not None and hasattr(func, "__code__"):
        return [func]
    return []


def _kind(member: Any) -> str:
    if isinstance(member, property):
        return "property"
    if isinstance(member, classmethod):
        return "classmethod"
    if isinstance(member, staticmethod):
        return "staticmethod"
    if hasattr(member, "__code__"):
        return "method"
    return "attribute"


_TREES: dict[str, ast.Module] = {}


def _body_lines(fn: Any) -> tuple[str, int, int] | None:
    """The file and the first and last line of a function's body, its docstring left out."""
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    path = os.path.realpath(code.co_filename)
    if path not in _TREES:
        with open(path, encoding="utf-8") as fh:
            _TREES[path] = ast.parse(fh.read())
    first = code.co_firstlineno
    for node in ast.walk(_TREES[path]):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name != fn.__name__:
            continue
        starts = [node.lineno] + [d.lineno for d in node.decorator_list]
        if first not in starts:
            continue
        body = node.body
        if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        return path, body[0].lineno, node.end_lineno or body[-1].lineno
    return None


def describe(target: str) -> dict[str, Any]:
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    package = module_name.rsplit(".", 1)[0] if not hasattr(sys.modules[module_name], "__path__") else module_name
    pkg_dir = os.path.realpath(os.path.dirname(sys.modules[package].__file__))
    functions = member_functions(cls)
    members: dict[str, Any] = {}
    for name in sorted({n for k in cls.__mro__ for n in vars(k)}):
        if name.startswith("__"):
            continue
        owner = next(k for k in cls.__mro__ if name in vars(k))
        member = vars(owner)[name]
        spans = []
        for fn in _functions(member):
            span = _body_lines(fn)
            if span and span[0].startswith(pkg_dir + os.sep):
                spans.append([os.path.relpath(span[0], pkg_dir), span[1], span[2]])
        members[name] = {"kind": _kind(member), "class": f"{owner.__module__}.{owner.__qualname__}",
                         "spans": spans, "params": parameters(functions[name]) if name in functions else []}
    return {"target": target, "package_dir": pkg_dir, "members": members}


def main() -> int:
    print(json.dumps(describe(sys.argv[1] if len(sys.argv) > 1 else "dagster._core.instance:DagsterInstance"),
                     sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

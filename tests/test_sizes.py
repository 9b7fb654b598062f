"""No module of the package over 800 lines and no function over 80, so that each reads as one thing.

A module that grows past the limit holds pieces a reader looks for separately (the replay of
cells and the comparison of traces were one module of 1,115 lines); a function that does, steps
that can each be named. :data:`LONGER` held the functions over the limit when the limit was
set; each has been split since, and none may join it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "compat"
MODULE_LINES = 800
FUNCTION_LINES = 80
# exceptions (path under compat/, function name): none left, none may be added
LONGER: set[tuple[str, str]] = set()


def _sizes(root: Path) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Lines per module and per function (from its `def` to its last line) under `root`."""
    modules, functions = {}, {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        source = path.read_text(encoding="utf-8")
        modules[rel] = len(source.splitlines())
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                key = (rel, node.name)
                functions[key] = max(functions.get(key, 0), node.end_lineno - node.lineno + 1)
    return modules, functions


def _over(root: Path) -> list[str]:
    modules, functions = _sizes(root)
    return ([f"{rel}: {n} lines" for rel, n in modules.items() if n > MODULE_LINES]
            + [f"{rel}::{name}: {n} lines" for (rel, name), n in functions.items()
               if n > FUNCTION_LINES and (rel, name) not in LONGER])


def test_no_module_over_800_lines_and_no_new_function_over_80():
    assert not _over(PACKAGE), _over(PACKAGE)


def test_the_exceptions_only_shrink():
    """A listed function that was split is taken off the list, so that it cannot grow back."""
    _, functions = _sizes(PACKAGE)
    split = [k for k in sorted(LONGER) if functions.get(k, 0) <= FUNCTION_LINES]
    assert not split, f"no longer over {FUNCTION_LINES} lines, remove from LONGER: {split}"


def test_a_long_module_or_function_is_found(tmp_path):
    """The check can fail: a module of 801 lines, and a function of 81 in another."""
    (tmp_path / "long.py").write_text("x = 1\n" * (MODULE_LINES + 1))
    (tmp_path / "steps.py").write_text("def steps():\n" + "    x = 1\n" * FUNCTION_LINES)
    (tmp_path / "short.py").write_text("def short():\n" + "    x = 1\n" * (FUNCTION_LINES - 1))
    assert _over(tmp_path) == [f"long.py: {MODULE_LINES + 1} lines", f"steps.py::steps: {FUNCTION_LINES + 1} lines"]

"""Annotation normalization: compare what a type means, not how it is spelled.

`Optional[X]`, `Union[X, None]`, `X | None` and `"X | None"` all normalize to `None | X`;
`typing.List`/`list`, `typing.Sequence`/`collections.abc.Sequence` and a dotted name against
its bare import all normalize alike. Names are reduced to their last segment: a refactor that
moves a class and re-imports it from a new module is a spelling change for annotations (the
import-path rules catch a real move of the target itself).
"""

from __future__ import annotations

import ast

# typing aliases of builtins and the collections they stand for
_ALIASES = {
    "List": "list",
    "Dict": "dict",
    "Set": "set",
    "FrozenSet": "frozenset",
    "Tuple": "tuple",
    "Type": "type",
    "DefaultDict": "defaultdict",
    "OrderedDict": "OrderedDict",
    "Deque": "deque",
    "Text": "str",
    "NoneType": "None",
}


def normalize(annotation: str | None) -> str | None:
    """Normalized text of an annotation, or None when there is none."""
    if annotation is None:
        return None
    text = annotation.strip()
    if not text:
        return None
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return " ".join(text.split())
    return _norm(node)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _union_members(node: ast.expr) -> list[str] | None:
    """Flattened, normalized members if `node` is a union of any spelling, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flat(node.left) + _flat(node.right)
    if isinstance(node, ast.Subscript):
        head = _name(node.value)
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head == "Optional":
            return _flat(args[0]) + ["None"]
        if head == "Union":
            out: list[str] = []
            for a in args:
                out += _flat(a)
            return out
    return None


def _flat(node: ast.expr) -> list[str]:
    members = _union_members(node)
    if members is not None:
        return members
    return [_norm(node)]


def _norm(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):  # forward reference
            try:
                return _norm(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return node.value
        if node.value is None:
            return "None"
        return repr(node.value)
    members = _union_members(node)
    if members is not None:
        unique = sorted(set(members))
        return unique[0] if len(unique) == 1 else " | ".join(unique)
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = _name(node) or ""
        return _ALIASES.get(name, name)
    if isinstance(node, ast.Subscript):
        head = _norm(node.value)
        if isinstance(node.slice, ast.Tuple):
            args = ", ".join(_norm(e) for e in node.slice.elts)
        else:
            args = _norm(node.slice)
        return f"{head}[{args}]"
    if isinstance(node, (ast.List, ast.Tuple)):
        inner = ", ".join(_norm(e) for e in node.elts)
        return f"[{inner}]"
    return ast.unparse(node)

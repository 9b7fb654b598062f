"""Annotation normalization: compare what a type means, not how it is spelled.

`Optional[X]`, `Union[X, None]`, `X | None` and `"X | None"` all normalize to `None | X`;
`typing.List`/`list`, `typing.Sequence`/`collections.abc.Sequence` and a dotted name against
its bare import all normalize alike. Names are reduced to their last segment: a refactor that
moves a class and re-imports it from a new module is a spelling change for annotations (the
import-path rules catch a real move of the target itself).
"""

from __future__ import annotations

import ast
import re

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


# --------------------------------------------------------------------------- subtyping

# generic origins and the origins they are subtypes of (after normalization: `Set` is `set`)
_SUPERTYPES = {
    "bool": {"int", "float", "complex"},
    "int": {"float", "complex"},
    "float": {"complex"},
    "list": {"Sequence", "MutableSequence", "Collection", "Iterable", "Reversible", "Container", "Sized"},
    "tuple": {"Sequence", "Collection", "Iterable", "Reversible", "Container", "Sized"},
    "str": {"Sequence", "Collection", "Iterable", "Container", "Sized", "Hashable"},
    "set": {"AbstractSet", "MutableSet", "Collection", "Iterable", "Container", "Sized"},
    "frozenset": {"AbstractSet", "Collection", "Iterable", "Container", "Sized"},
    "dict": {"Mapping", "MutableMapping", "Collection", "Iterable", "Container", "Sized"},
    "defaultdict": {"dict", "Mapping", "MutableMapping", "Collection", "Iterable", "Container", "Sized"},
    "OrderedDict": {"dict", "Mapping", "MutableMapping", "Collection", "Iterable", "Container", "Sized"},
    "Sequence": {"Collection", "Iterable", "Reversible", "Container", "Sized"},
    "MutableSequence": {"Sequence", "Collection", "Iterable", "Reversible", "Container", "Sized"},
    "AbstractSet": {"Collection", "Iterable", "Container", "Sized"},
    "MutableSet": {"AbstractSet", "Collection", "Iterable", "Container", "Sized"},
    "Mapping": {"Collection", "Iterable", "Container", "Sized"},
    "MutableMapping": {"Mapping", "Collection", "Iterable", "Container", "Sized"},
    "Collection": {"Iterable", "Container", "Sized"},
    "Iterator": {"Iterable"},
    "Generator": {"Iterator", "Iterable"},
}
# origins whose type arguments are covariant (read-only views); the others are invariant
_COVARIANT = {
    "Sequence", "AbstractSet", "Collection", "Iterable", "Iterator", "Reversible", "Container", "tuple", "frozenset",
    "Mapping", "type", "Generator",
}
_TOP = {"Any", "object"}


def _split(text: str) -> tuple[str, list[str]]:
    """(origin, type arguments) of a normalized, non-union annotation."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text, []
    if isinstance(node, ast.Subscript):
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return ast.unparse(node.value), [ast.unparse(a) for a in args]
    return text, []


def _members(text: str) -> list[str]:
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return [text]
    return [ast.unparse(m) if not isinstance(m, str) else m for m in _top_union(node)]


def _top_union(node: ast.expr) -> list:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _top_union(node.left) + _top_union(node.right)
    return [node]


def _is_sub_single(a: str, b: str) -> bool:
    if a == b or b in _TOP:
        return True
    if a in _TOP:
        return False
    head_a, args_a = _split(a)
    head_b, args_b = _split(b)
    if head_a != head_b and head_b not in _SUPERTYPES.get(head_a, set()):
        return False
    if not args_b:
        return True  # the bare origin: any parameters
    if head_a != head_b and not args_a:
        return False
    if head_a != head_b:
        # the subtype's arguments map onto the supertype's only for same-arity containers
        if len(args_a) != len(args_b) and not (head_a in ("dict", "defaultdict", "OrderedDict") and len(args_b) == 2):
            return False
    if len(args_a) != len(args_b):
        return False
    covariant = head_b in _COVARIANT or head_b == "Mapping"
    for i, (x, y) in enumerate(zip(args_a, args_b)):
        if x == y:
            continue
        if head_b == "Mapping" and i == 0:
            return False  # a mapping's key type is invariant
        if not covariant or not is_subtype(x, y):
            return False
    return True


def is_subtype(a: str, b: str) -> bool:
    """Whether every value of normalized annotation ``a`` is a value of ``b``, as far as the
    names alone tell (unknown classes are related only to themselves, Any and object)."""
    return all(any(_is_sub_single(x, y) for y in _members(b)) for x in _members(a))


def relation(old: str, new: str, *, sets_by_name: bool = False) -> str:
    """How the new annotation relates to the old: ``same``, ``wider`` (every old value is
    still one), ``narrower``, or ``unrelated``. ``sets_by_name``: one side was normalized by
    bare names, where collections.abc's ``Set`` reads as ``set``, so ``set`` and ``AbstractSet``
    cannot be told apart and count as one."""
    if sets_by_name:
        old, new = (re.sub(r"\bAbstractSet\b", "set", t) for t in (old, new))
    if old == new:
        return "same"
    sub, sup = is_subtype(old, new), is_subtype(new, old)
    if sub and sup:
        return "same"
    if sub:
        return "wider"
    if sup:
        return "narrower"
    return "unrelated"

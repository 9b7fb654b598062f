"""Generated mutants: every small edit of a fixed kind, at every place of dagster's instance code.

The hand-written mutations of ``compat/tools/mutate.py`` were written beside the scenarios they
measure, so their kill rate says little about edits nobody thought of. This engine walks the
sources of ``dagster/_core/instance/**`` of a dagster (installed, or any other side) and proposes,
at each place an operator applies, one edit; the sample of those that the gate fails on is an
unbiased measure of what it sees.

Why our own operators and not mutmut's or cosmic-ray's: both mutate expressions (arithmetic and
comparison operators, number and string literals, ``break``/``continue``) and run a test command
in the mutated working tree. The breaks a subclass author meets are of another kind (an argument
no longer forwarded to a storage, a list returned as a tuple, a new ``DeprecationWarning``, an
exception of another class), and a mutant here must be a whole dagster tree that the gate checks
exactly as it checks a maintainer's edited dagster. What we took from them: cosmic-ray's split of
an operator into "where can it apply" and "what does the edit look like", and its edit of the
source text in place (it uses parso) rather than a re-printed module, and mutmut's habit of
skipping what cannot matter (docstrings, annotations, ``if TYPE_CHECKING`` blocks).

Edits are location-preserving: only the source span of the mutated node is replaced (by the
mutated node's ``ast.unparse``, or by the original text wrapped), so every other line, comment
and docstring of the file is the original's. A mutant's id (``methods/run_methods.py:120:15:
negate-condition``) is its file, line, column and operator: the same dagster gives the same
mutants with the same ids, in the same order.

Equivalence is judged by explicit heuristics (``EQUIVALENCE``): an edit that no caller can
observe by construction (a reorder of a container that is only tested for membership or handed
to ``set``/``sorted``, a deleted log line, a changed ``stacklevel``, dead code). A mutant so
classified that the gate still fails on is reported apart, as a possible false alarm.
"""

from __future__ import annotations

import ast
import os
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from compat.model.errors import CompatError

SCOPE = "dagster/_core/instance"

OPERATORS: dict[str, str] = {
    "drop-forwarded-arg": "an argument the method received is no longer passed on in a call",
    "keyword-changed": "a literal keyword argument of a call changed (True<->False, n -> n+1, 'x' -> 'x_')",
    "list-to-tuple": "a list built here is a tuple",
    "tuple-to-list": "a tuple built here is a list",
    "list-to-set": "a list built here is a set",
    "dict-order": "a dict literal's keys in the reverse order",
    "order-reversed": "a returned sequence reversed, or sorted() in the other direction",
    "negate-condition": "the condition of an if, while or conditional expression negated",
    "delete-statement": "a statement (call, assignment, raise) replaced by `pass`",
    "exception-class": "a raised exception of another class (RuntimeError; ValueError for a RuntimeError)",
    "early-return": "the function returns None before its first statement",
    "warning-added": "the function emits a DeprecationWarning first",
    "default-changed": "a literal default changed (a parameter's, or .get(key, default)'s)",
}

# why an edit can be unobservable, by construction (heuristics: each is named in the report)
EQUIVALENCE: dict[str, str] = {
    "membership-only": "the container is only tested for membership (`x in ...`): its type and order are not seen",
    "order-insensitive-consumer": "the container goes straight into a call that ignores its type and order "
                                  "(set, frozenset, sorted, len, any, all, ...)",
    "iterated-in-order": "a literal iterated by a loop or comprehension: a tuple and a list yield the same items "
                         "in the same order",
    "iterated-by-callee": "a literal passed to a function of the same module that only iterates that parameter "
                          "(a loop or comprehension over it): a tuple and a list yield the same items in order",
    "star-unpacked": "the container is unpacked (`*[...]`/`**{...}`): the receiver builds its own",
    "log-only": "the deleted statement only writes a log line (the gate does not record logs)",
    "stacklevel": "only the warning's reported source location changes",
    "description-only": "only a description text changes (of a config field, say): documentation, not behaviour",
    "at-most-one-item": "the reversed literal has at most one item: its order cannot change",
    "dead-code": "the edit is in code that cannot run (after a return or raise, or under TYPE_CHECKING)",
    "sorted-keys-dump": "the mapping is written by yaml.dump (or json.dumps with sort_keys=True), which sorts "
                        "its keys: the order it was built in is not seen",
    "shadowed": "a member of a base class that a class earlier in DagsterInstance's MRO defines again, without "
                "super(); no other class derives from the base and no code names the base's member: nothing "
                "reaches it",
}

# consumers for which a container's type and order cannot matter
_ORDERLESS_CALLS = {"set", "frozenset", "sorted", "len", "any", "all", "sum", "min", "max"}
_COPYING_CALLS = {"list", "tuple"}  # keep order, drop type: equivalent for list<->tuple only
_LOG_RECEIVERS = {"logger", "logging", "_logger", "log"}
_SEQUENCE_ANNOTATIONS = {"Sequence", "list", "List", "tuple", "Tuple", "AbstractSet", "MutableSequence"}


@dataclass(frozen=True)
class Mutant:
    """One generated edit of one file of the instance code."""

    path: str  # relative to the root holding the dagster package: dagster/_core/instance/...
    line: int
    col: int
    end_line: int
    end_col: int
    operator: str
    function: str  # qualified name of the enclosing function
    old: str  # the replaced source text
    new: str  # its replacement
    equivalent: str | None = None  # an EQUIVALENCE key, when the heuristics judge it unobservable
    variant: int = 0  # the n-th edit of this operator at this place (another argument dropped)

    @property
    def id(self) -> str:
        base = f"{self.path[len(SCOPE) + 1:]}:{self.line}:{self.col}:{self.operator}"
        return f"{base}#{self.variant + 1}" if self.variant else base

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def diff(self) -> str:
        """The edit on one line: the old text, then the new (each collapsed to one line)."""
        if not self.old:
            return f"+ {_one_line(self.new)}  (inserted as the first statement)"
        old, new = _normal(self.old), _normal(self.new)
        if max(len(old), len(new)) <= _DIFF_WIDTH:
            return f"- {old}  + {new}"
        # too long for a line: the part that differs, with a little context either side
        p = len(os.path.commonprefix([old, new]))
        s = len(os.path.commonprefix([old[p:][::-1], new[p:][::-1]]))
        before, after = old[max(0, p - 30):p], old[len(old) - s:][:30]
        return f"- ...{before}[{old[p:len(old) - s]}]{after}...  + ...{before}[{new[p:len(new) - s]}]{after}..."

    @property
    def description(self) -> str:
        return f"{self.operator} in {self.function} at {self.where}: {self.diff}"

    def apply_to(self, source: bytes) -> bytes:
        """The file's source with this edit made (line/column are UTF-8 byte offsets, as in ast)."""
        starts = _line_starts(source)
        begin, end = starts[self.line - 1] + self.col, starts[self.end_line - 1] + self.end_col
        if source[begin:end].decode() != self.old:
            raise CompatError(f"mutant {self.id}: the source at {self.where} is not what it was generated from")
        return source[:begin] + self.new.encode() + source[end:]

    def as_dict(self) -> dict:
        return {"id": self.id, "path": self.path, "line": self.line, "col": self.col, "end_line": self.end_line,
                "end_col": self.end_col, "operator": self.operator, "function": self.function,
                "old": self.old, "new": self.new, "equivalent": self.equivalent, "variant": self.variant}


_DIFF_WIDTH = 110


def _normal(text: str) -> str:
    """An expression as ast.unparse spells it (so that only the edit differs), else on one line."""
    try:
        return ast.unparse(ast.parse(text.strip(), mode="eval"))
    except SyntaxError:
        return _one_line(text, 10_000)


def _one_line(text: str, limit: int = _DIFF_WIDTH) -> str:
    flat = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def _line_starts(source: bytes) -> list[int]:
    starts, pos = [0], 0
    for line in source.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def _segment(source: bytes, starts: list[int], node: ast.AST) -> str:
    return source[starts[node.lineno - 1] + node.col_offset:starts[node.end_lineno - 1] + node.end_col_offset].decode()


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return None


def _changed_constant(value: object) -> object:
    """The literal a constant becomes (NotImplemented: no edit for this constant)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 if value else 1.0
    if isinstance(value, str):
        return value + "_"
    return NotImplemented


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _is_stub_body(body: list[ast.stmt]) -> bool:
    """A body with nothing to mutate at its start: a docstring, `...`, `pass` or a bare raise."""
    rest = [s for s in body if not _is_docstring(s)]
    return not rest or (len(rest) == 1 and (isinstance(rest[0], (ast.Pass, ast.Raise)) or (
        isinstance(rest[0], ast.Expr) and isinstance(rest[0].value, ast.Constant))))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Walker:
    """Finds every site of every operator in one module, with its enclosing function and context."""

    def __init__(self, rel: str, source: bytes, operators: set[str]):
        self.rel, self.source, self.ops = rel, source, operators
        self.starts = _line_starts(source)
        self.tree = ast.parse(source)
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self.found: list[Mutant] = []

    # --- helpers -------------------------------------------------------------------------------
    def seg(self, node: ast.AST) -> str:
        return _segment(self.source, self.starts, node)

    def add(self, node: ast.AST, operator: str, function: str, new: str, equivalent: str | None = None) -> None:
        if operator not in self.ops:
            return
        self.found.append(Mutant(self.rel, node.lineno, node.col_offset, node.end_lineno, node.end_col_offset,
                                 operator, function, self.seg(node), new, equivalent))

    def insert_before(self, stmt: ast.stmt, operator: str, function: str, text: str) -> None:
        """A statement inserted before ``stmt`` (on its own line, at its indentation)."""
        if operator not in self.ops:
            return
        first = self.source[self.starts[stmt.lineno - 1]:self.starts[stmt.lineno - 1] + stmt.col_offset]
        if first.strip():  # the statement shares its line with the def: no clean insertion point
            return
        self.found.append(Mutant(self.rel, stmt.lineno, stmt.col_offset, stmt.lineno, stmt.col_offset,
                                 operator, function, "", text + "\n" + first.decode()))

    def in_annotation(self, node: ast.AST) -> bool:
        child, parent = node, self.parents.get(node)
        while parent is not None:
            if isinstance(parent, ast.AnnAssign) and child is parent.annotation:
                return True
            if isinstance(parent, ast.arg) and child is parent.annotation:
                return True
            child, parent = parent, self.parents.get(parent)
        return False

    def dead(self, node: ast.AST) -> bool:
        """Under `if TYPE_CHECKING:`, or after a return/raise/continue/break of the same block."""
        child, parent = node, self.parents.get(node)
        while parent is not None:
            if isinstance(parent, ast.If) and _is_type_checking(parent.test) and child in parent.body:
                return True
            for field in ("body", "orelse", "finalbody"):
                block = getattr(parent, field, None)
                if isinstance(block, list) and child in block:
                    before = block[:block.index(child)]
                    if any(isinstance(s, (ast.Return, ast.Raise, ast.Continue, ast.Break)) for s in before):
                        return True
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return False
            child, parent = parent, self.parents.get(parent)
        return False

    def container_context(self, node: ast.expr, swap: str) -> str | None:
        """Why changing this container's type (``swap``) or order cannot be seen, if it cannot."""
        parent = self.parents.get(node)
        if swap == "dict-order" and self.dumped_sorted(node):
            return "sorted-keys-dump"
        if isinstance(parent, ast.Compare) and node in parent.comparators and all(
                isinstance(op, (ast.In, ast.NotIn)) for op in parent.ops):
            return "membership-only"
        if isinstance(parent, ast.Call) and node in parent.args:
            name = _call_name(parent)
            if name in _ORDERLESS_CALLS or (name == "join" and swap != "list-to-set"):
                return "order-insensitive-consumer"
            if name in _COPYING_CALLS and swap in ("list-to-tuple", "tuple-to-list"):
                return "order-insensitive-consumer"
        if swap in ("list-to-tuple", "tuple-to-list") and self.callee_only_iterates(parent, node):
            return "iterated-by-callee"
        if isinstance(parent, (ast.Starred,)) or (isinstance(parent, ast.keyword) and parent.arg is None):
            return "star-unpacked"
        if swap in ("list-to-tuple", "tuple-to-list") and (
                (isinstance(parent, (ast.For, ast.AsyncFor)) and node is parent.iter)
                or (isinstance(parent, ast.comprehension) and node is parent.iter)):
            return "iterated-in-order"
        return None

    def callee_only_iterates(self, call: ast.AST | None, node: ast.expr) -> bool:
        """Whether ``node`` is a positional argument of a call of a module-level function of this
        file (by plain name) that uses the matching parameter only as what a loop or a
        comprehension iterates, and never rebinds it."""
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and node in call.args):
            return False
        index = call.args.index(node)
        if any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
            return False
        defs = [d for d in self.tree.body if isinstance(d, ast.FunctionDef) and d.name == call.func.id]
        if len(defs) != 1 or index >= len(defs[0].args.posonlyargs + defs[0].args.args):
            return False
        param = (defs[0].args.posonlyargs + defs[0].args.args)[index].arg
        iterated = {id(n.iter) for n in ast.walk(defs[0]) if isinstance(n, (ast.For, ast.comprehension))}
        uses = [n for n in ast.walk(defs[0]) if isinstance(n, ast.Name) and n.id == param]
        return bool(uses) and all(isinstance(n.ctx, ast.Load) and id(n) in iterated for n in uses)

    def dumped_sorted(self, node: ast.expr) -> bool:
        """Whether this dict literal is (a value nested in dict literals that is) the document a
        sorting serializer writes: ``yaml.dump``/``yaml.safe_dump`` (keys sorted unless
        ``sort_keys=False``) or ``json.dumps(..., sort_keys=True)``."""
        keys = getattr(node, "keys", [])
        if not all(isinstance(k, ast.Constant) for k in keys) or len({k.value for k in keys}) != len(keys):
            return False  # a repeated key: the reversed literal keeps another value for it
        child, parent = node, self.parents.get(node)
        while isinstance(parent, ast.Dict) and child in parent.values:
            child, parent = parent, self.parents.get(parent)
        if not (isinstance(parent, ast.Call) and parent.args and parent.args[0] is child
                and isinstance(parent.func, ast.Attribute) and isinstance(parent.func.value, ast.Name)):
            return False
        module, name = parent.func.value.id, parent.func.attr
        sort = next((kw.value for kw in parent.keywords if kw.arg == "sort_keys"), None)
        if any(kw.arg is None for kw in parent.keywords):
            return False  # **kwargs may carry sort_keys
        if module == "yaml" and name in ("dump", "safe_dump"):
            return sort is None or (isinstance(sort, ast.Constant) and sort.value is True)
        if module == "json" and name == "dumps":
            return isinstance(sort, ast.Constant) and sort.value is True
        return False

    # --- the walk ----------------------------------------------------------------------------------
    def functions(self) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str, bool]]:
        """Every function (qualname, whether it is defined directly in a class or module)."""

        def visit(node: ast.AST, prefix: str, top: bool):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = f"{prefix}{child.name}"
                    yield child, name, top
                    yield from visit(child, name + ".<locals>.", False)
                elif isinstance(child, ast.ClassDef):
                    yield from visit(child, f"{prefix}{child.name}.", top)
                elif isinstance(child, ast.If) and _is_type_checking(child.test):
                    continue
                elif not isinstance(child, ast.expr):
                    yield from visit(child, prefix, top)

        yield from visit(self.tree, "", True)

    def run(self) -> list[Mutant]:
        self.windows: dict[int, tuple[int, int, bool]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and self.windows.get(node.lineno) is None:
                first = min([d.lineno for d in node.decorator_list] + [node.lineno])
                for n in range(node.lineno, node.end_lineno + 1):
                    self.windows.setdefault(n, (first, node.end_lineno, node.col_offset > 0))
        for fn, name, top in self.functions():
            self.function_sites(fn, name, top)
            for node in self.body_nodes(fn):
                self.node_sites(node, fn, name)
        return self.found

    def body_nodes(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
        """The nodes of this function's body, not those of nested functions or classes."""
        stack = list(reversed(fn.body))
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            yield node
            stack.extend(reversed(list(ast.iter_child_nodes(node))))

    def function_sites(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, name: str, top: bool) -> None:
        abstract = any(isinstance(d, (ast.Name, ast.Attribute)) and (getattr(d, "id", None) or getattr(d, "attr", ""))
                       in ("abstractmethod", "overload") for d in fn.decorator_list)
        body = [s for s in fn.body if not _is_docstring(s)]
        returns_first = isinstance(body[0], ast.Return) and (
            body[0].value is None or (isinstance(body[0].value, ast.Constant) and body[0].value.value is None)
        ) if body else False
        if not abstract and body and not _is_stub_body(fn.body):
            if not returns_first:
                self.insert_before(body[0], "early-return", name, "return None")
            if top:
                message = f"{name} is deprecated"
                self.insert_before(body[0], "warning-added", name,
                                   f"__import__('warnings').warn({message!r}, DeprecationWarning, stacklevel=2)")
        args = fn.args
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults)) + [
            (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        for _, default in pairs:
            if isinstance(default, ast.Constant):
                changed = _changed_constant(default.value)
                if changed is not NotImplemented:
                    self.add(default, "default-changed", name, repr(changed))

    def node_sites(self, node: ast.AST, fn: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> None:
        if self.in_annotation(node):
            return
        dead = "dead-code" if self.dead(node) else None
        params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs} - {"self", "cls"}
        if isinstance(node, ast.Call):
            self.call_sites(node, name, params, dead)
        elif isinstance(node, (ast.List, ast.ListComp)) and getattr(node, "ctx", ast.Load()).__class__ is ast.Load:
            tuple_text = (f"({', '.join(self.seg(e) for e in node.elts)}{',' if len(node.elts) == 1 else ''})"
                          if isinstance(node, ast.List) else f"tuple({self.seg(node)[1:-1]})")
            self.add(node, "list-to-tuple", name, tuple_text, dead or self.container_context(node, "list-to-tuple"))
            if isinstance(node, ast.List) and node.elts:
                set_text = "{" + ", ".join(self.seg(e) for e in node.elts) + "}"
            elif isinstance(node, ast.List):
                set_text = "set()"
            else:
                set_text = "{" + self.seg(node)[1:-1] + "}"
            self.add(node, "list-to-set", name, set_text, dead or self.container_context(node, "list-to-set"))
        elif isinstance(node, ast.Tuple) and isinstance(node.ctx, ast.Load) and node.elts:
            parent = self.parents.get(node)
            if isinstance(parent, ast.Subscript) or isinstance(parent, ast.ExceptHandler) or (
                    isinstance(parent, ast.Call) and _call_name(parent) in ("isinstance", "issubclass")) or (
                    isinstance(parent, ast.Dict) and node in parent.keys) or isinstance(parent, ast.Set):
                return  # a list is not allowed there (a class tuple, a key): no program would do it
            self.add(node, "tuple-to-list", name, "[" + ", ".join(self.seg(e) for e in node.elts) + "]",
                     dead or self.container_context(node, "tuple-to-list"))
        elif isinstance(node, ast.Dict) and len(node.keys) >= 2 and None not in node.keys:
            reordered = "{" + ", ".join(f"{self.seg(k)}: {self.seg(v)}"
                                        for k, v in reversed(list(zip(node.keys, node.values)))) + "}"
            self.add(node, "dict-order", name, reordered, dead or self.container_context(node, "dict-order"))
        elif isinstance(node, (ast.If, ast.While)) and not _is_type_checking(node.test):
            self.add(node.test, "negate-condition", name, f"not ({self.seg(node.test)})", dead)
        elif isinstance(node, ast.IfExp):
            self.add(node.test, "negate-condition", name, f"not ({self.seg(node.test)})", dead)
        elif isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant)) and self.returns_sequence(fn):
            few = isinstance(node.value, (ast.List, ast.Tuple)) and len(node.value.elts) <= 1
            self.add(node.value, "order-reversed", name, f"({self.seg(node.value)})[::-1]",
                     dead or ("at-most-one-item" if few else None))
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, (ast.Name, ast.Attribute)):
                new = "ValueError" if self.seg(exc) == "RuntimeError" else "RuntimeError"
                self.add(exc, "exception-class", name, new, dead)
        if isinstance(node, (ast.Expr, ast.Assign, ast.AugAssign, ast.Raise, ast.Delete)) or (
                isinstance(node, ast.AnnAssign) and node.value is not None):
            if isinstance(node, ast.Expr) and (not isinstance(node.value, ast.Call) or _is_docstring(node)):
                return
            log = isinstance(node, ast.Expr) and isinstance(node.value.func, ast.Attribute) and (
                self.receiver(node.value.func) in _LOG_RECEIVERS)
            self.add(node, "delete-statement", name, "pass", dead or ("log-only" if log else None))

    @staticmethod
    def receiver(func: ast.Attribute) -> str:
        value = func.value
        if isinstance(value, ast.Attribute):
            return value.attr
        return value.id if isinstance(value, ast.Name) else ""

    @staticmethod
    def returns_sequence(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        ann = fn.returns
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval").body
            except SyntaxError:
                return False
        if isinstance(ann, ast.Subscript):
            ann = ann.value
        name = ann.attr if isinstance(ann, ast.Attribute) else getattr(ann, "id", None)
        return name in _SEQUENCE_ANNOTATIONS

    def call_sites(self, node: ast.Call, name: str, params: set[str], dead: str | None) -> None:
        callee = _call_name(node)
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Name) and arg.id in params and i == len(node.args) - 1:
                dropped = ast.Call(node.func, node.args[:-1], node.keywords)
                self.add(node, "drop-forwarded-arg", name, ast.unparse(dropped), dead)
        for i, kw in enumerate(node.keywords):
            if kw.arg is None:
                continue
            if isinstance(kw.value, ast.Name) and kw.value.id in params:
                dropped = ast.Call(node.func, node.args, node.keywords[:i] + node.keywords[i + 1:])
                self.add(node, "drop-forwarded-arg", name, ast.unparse(dropped), dead)
            elif isinstance(kw.value, ast.Constant):
                changed = _changed_constant(kw.value.value)
                if changed is not NotImplemented:
                    why = dead or {"stacklevel": "stacklevel", "description": "description-only"}.get(kw.arg)
                    self.add(kw.value, "keyword-changed", name, repr(changed), why)
        if callee in ("list", "tuple") and len(node.args) == 1 and not node.keywords and isinstance(
                node.func, ast.Name):
            swap = "list-to-tuple" if callee == "list" else "tuple-to-list"
            self.add(node.func, swap, name, "tuple" if callee == "list" else "list",
                     dead or self.container_context(node, swap))
            if callee == "list":
                self.add(node.func, "list-to-set", name, "set", dead or self.container_context(node, "list-to-set"))
        if callee == "sorted" and isinstance(node.func, ast.Name):
            reverse = next((kw for kw in node.keywords if kw.arg == "reverse"), None)
            if reverse is None:
                flipped = ast.Call(node.func, node.args, node.keywords + [ast.keyword("reverse", ast.Constant(True))])
                self.add(node, "order-reversed", name, ast.unparse(flipped), dead)
        if callee == "get" and isinstance(node.func, ast.Attribute) and len(node.args) == 2 and isinstance(
                node.args[1], ast.Constant):
            changed = _changed_constant(node.args[1].value)
            if changed is not NotImplemented:
                self.add(node.args[1], "default-changed", name, repr(changed), dead)


TARGET_CLASS = "DagsterInstance"


def _module_rel(module: str) -> str:
    return module.replace(".", "/") + ".py"


def _c3(heads: dict[str, list[str]], name: str) -> list[str]:
    """The C3 linearization of ``name`` given each class's bases (a base not in ``heads`` is a
    class of its own with no bases of ours)."""
    bases = heads.get(name, [])
    seqs = [_c3(heads, b) for b in bases] + [list(bases)]
    out = [name]
    while any(seqs):
        seqs = [q for q in seqs if q]
        head = next((q[0] for q in seqs if not any(q[0] in r[1:] for r in seqs)), None)
        if head is None:
            raise CompatError(f"no consistent method resolution order for {name}")
        out.append(head)
        seqs = [q[1:] if q[0] == head else q for q in seqs]
    return out


def _calls_super(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "super"
               for n in ast.walk(node))


def shadowed_members(root: Path) -> dict[str, str]:
    """Members of the target's bases (``Class.member`` -> the class whose definition hides it) that
    nothing reaches: a class earlier in ``DagsterInstance``'s MRO defines the member again and its
    definition does not call ``super()``, no other class of dagster derives from the base, and no
    code of dagster names the base except as the target's base or in an annotation (``Base.member``
    would call it directly). Read from the sources, without importing them; code outside dagster
    is trusted not to name dagster's private mixins."""
    classes: dict[str, tuple[ast.ClassDef, str]] = {}  # "rel:Name" -> its def and module
    heads: dict[str, list[str]] = {}
    for path in instance_files(root):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_bytes())
        imported = {a.asname or a.name: f"{_module_rel(n.module)}:{a.name}" for n in tree.body
                    if isinstance(n, ast.ImportFrom) and n.module and n.level == 0 for a in n.names}
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes[f"{rel}:{node.name}"] = (node, rel)
                heads[f"{rel}:{node.name}"] = [
                    (f"{rel}:{b.id}" if any(isinstance(n, ast.ClassDef) and n.name == b.id for n in tree.body)
                     else imported.get(b.id, f"?{b.id}")) if isinstance(b, ast.Name) else f"?{ast.unparse(b)}"
                    for b in node.bases]
    targets = [key for key in classes if key.endswith(f":{TARGET_CLASS}")]
    if len(targets) != 1:
        return {}
    target = targets[0]
    mro = _c3(heads, target)

    def members(key: str) -> dict[str, list[ast.AST]]:
        out: dict[str, list[ast.AST]] = {}
        for n in classes[key][0].body if key in classes else ():
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.setdefault(n.name, []).append(n)
            elif isinstance(n, (ast.Assign, ast.AnnAssign)) and getattr(n, "value", None) is not None:
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                    if isinstance(t, ast.Name):
                        out.setdefault(t.id, []).append(n)
        return out

    hidden: dict[str, str] = {}
    for i, key in enumerate(mro[1:], 1):
        if key not in classes:
            continue
        for name in members(key):
            definers = [k for k in mro[:i] if name in members(k)]
            if definers and not any(_calls_super(d) for k in definers for d in members(k)[name]):
                hidden[f"{key.partition(':')[2]}.{name}"] = definers[0].partition(":")[2]
    if not hidden:
        return {}
    # who else names the bases: another subclass, a direct `Base.member`, the base passed around
    base_names = {q.partition(".")[0] for q in hidden}
    named: set[str] = set()  # "Base" (every member) or "Base.member"
    needles = [n.encode() for n in sorted(base_names)]
    for path in sorted((root / "dagster").rglob("*.py")):
        data = path.read_bytes()
        if not any(n in data for n in needles):
            continue
        try:
            tree = ast.parse(data)
        except SyntaxError:
            continue
        parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Name) and node.id in base_names):
                continue
            parent = parents.get(node)
            if (isinstance(parent, ast.ClassDef) and parent.name == TARGET_CLASS and node in parent.bases
                    and path == root / classes[target][1]):
                continue
            if isinstance(parent, ast.Attribute):
                named.add(f"{node.id}.{parent.attr}")
                continue
            if _in_annotation(node, parents):
                continue
            named.add(node.id)
    return {q: by for q, by in hidden.items() if q.partition(".")[0] not in named and q not in named}


def _in_annotation(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, (ast.arg, ast.AnnAssign)) and child is parent.annotation:
            return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and child is parent.returns:
            return True
        if isinstance(parent, ast.If) and _is_type_checking(parent.test):
            return True
        child, parent = parent, parents.get(parent)
    return False


def instance_files(root: Path) -> list[Path]:
    """The Python files of the instance code under ``root`` (the directory holding ``dagster``)."""
    scope = root / SCOPE
    if not scope.is_dir():
        raise CompatError(f"no {SCOPE} under {root}: not a dagster with the instance package")
    return sorted(scope.rglob("*.py"))


def generate(root: Path, operators: list[str] | None = None) -> list[Mutant]:
    """Every mutant of the instance code under ``root``, by file, line, column and operator.
    Each one is checked to parse and to change the module's AST (else it is left out)."""
    chosen = set(operators or OPERATORS)
    unknown = chosen - set(OPERATORS)
    if unknown:
        raise CompatError(f"unknown operator(s): {', '.join(sorted(unknown))}; known: {', '.join(OPERATORS)}")
    out: list[Mutant] = []
    hidden = shadowed_members(root)
    for path in instance_files(root):
        rel = path.relative_to(root).as_posix()
        source = path.read_bytes()
        pristine: dict[tuple[int, int, bool], str | None] = {}
        walker = _Walker(rel, source, chosen)
        variants: dict[str, int] = {}
        texts: set[tuple[str, int, int, str]] = set()
        for m in walker.run():
            if (m.operator, m.line, m.col, m.new) in texts:
                continue
            if _changes(m, source, walker.windows[m.line], pristine):
                texts.add((m.operator, m.line, m.col, m.new))
                if m.equivalent is None and ".".join(m.function.split(".")[:2]) in hidden:
                    m = replace(m, equivalent="shadowed")
                n = variants.get(m.id, 0)
                variants[m.id] = n + 1
                out.append(replace(m, variant=n))
    return sorted(out, key=lambda m: (m.path, m.line, m.col, m.operator, m.variant))


def _window(source: bytes, span: tuple[int, int, bool]) -> bytes:
    """The lines of ``span`` (1-based first and last, and whether they are indented) of ``source``
    as a module of their own: the lines before blanked, so line numbers stay, and an indented
    block (a method) put under an ``if True:``."""
    lines = source.splitlines(keepends=True)
    first, last, indented = span
    block = b"".join(lines[first - 1:last])
    if not indented:
        return b"\n" * (first - 1) + block
    return b"\n" * max(first - 2, 0) + b"if True:\n" + block


def _changes(m: Mutant, source: bytes, span: tuple[int, int, bool], pristine: dict) -> bool:
    """Whether the edit parses and changes the AST, judged on the top-level definition holding it
    (parsing the whole module for each of thousands of mutants would take a minute)."""
    if span not in pristine:
        try:
            pristine[span] = ast.dump(ast.parse(_window(source, span)))
        except SyntaxError:
            pristine[span] = None
    edited = m.apply_to(source)
    if pristine[span] is None:  # the window does not parse alone: judge on the whole module
        try:
            return ast.dump(ast.parse(edited)) != ast.dump(ast.parse(source))
        except SyntaxError:
            return False
    delta = edited.count(b"\n") - source.count(b"\n")
    try:
        return ast.dump(ast.parse(_window(edited, (span[0], span[1] + delta, span[2])))) != pristine[span]
    except SyntaxError:
        return False


def sample(mutants: list[Mutant], n: int | None, seed: int) -> list[Mutant]:
    """``n`` mutants drawn at random with ``seed`` (all without ``n``), in generation order."""
    if n is None or n >= len(mutants):
        return list(mutants)
    picked = set(random.Random(seed).sample(range(len(mutants)), n))
    return [m for i, m in enumerate(mutants) if i in picked]


def by_ids(mutants: list[Mutant], ids: list[str]) -> list[Mutant]:
    known = {m.id: m for m in mutants}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise CompatError(f"unknown generated mutant(s): {', '.join(unknown)}")
    return [known[i] for i in ids]

"""What the extractor reads of a method with ast: the decorators, the ``self.<name>`` references,
calls and assignments of its body (following ``self`` aliases and helper objects built with
``Domain(self)``), its ``super().<name>`` calls, and its signature, from ast or from griffe,
with annotations spelled one way. The subclass profiler reads bodies the same way.
"""

from __future__ import annotations

import ast

import griffe

from compat.model.surface import (
    KEYWORD_ONLY,
    POSITIONAL_ONLY,
    POSITIONAL_OR_KEYWORD,
    STATICMETHOD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    Parameter,
    Signature,
)
from compat.model import annotations as ann


_GRIFFE_KINDS = {
    "positional-only": POSITIONAL_ONLY,
    "positional or keyword": POSITIONAL_OR_KEYWORD,
    "variadic positional": VAR_POSITIONAL,
    "keyword-only": KEYWORD_ONLY,
    "variadic keyword": VAR_KEYWORD,
}


def _decorator_name(node: ast.expr) -> str:
    """`public`, `property`, `x.setter`, `deprecated` for `@deprecated(...)`, ..."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        if node.attr in ("setter", "deleter", "getter") and isinstance(node.value, ast.Name):
            return f"{node.value.id}.{node.attr}"
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ast.unparse(node)


class _BodyRefs(ast.NodeVisitor):
    """Collects what a method body does with the instance.

    The instance is `self`, a self-alias property (`self._instance` in dagster's mixins,
    which returns `self` cast to DagsterInstance), or, inside a delegate class, the field
    that holds the instance it was built with (`self._instance` of a RunDomain).
    """

    def __init__(self, self_name: str | None, aliases: set[str] = frozenset(), fields: set[str] | None = None,
                 delegates: set[str] = frozenset()):
        self.self_name = self_name
        self.aliases = set(aliases)
        self.fields = fields  # None: we are in the target's MRO and `self` is the instance
        self.delegates = set(delegates)
        self.refs: set[str] = set()
        self.calls: set[str] = set()
        self.assigns: dict[str, int] = {}  # name -> first line
        self.annotations: dict[str, str] = {}
        self.supers: set[str] = set()
        self.own_calls: set[str] = set()  # delegate class: self.<m>(...) on the delegate itself
        self.delegated: set[tuple[str, str]] = set()  # (delegate property, method) called
        # helpers built in the body around the instance: `Manager(self).m(...)`, or
        # `mgr = Manager(self)` then `mgr.m(...)`; (class name, argument index, method) called
        self.built: set[tuple[str, int, str]] = set()
        self._built_locals: dict[str, tuple[str, int]] = {}
        # `Base.method(self, ...)`: an explicit call of one class's implementation with the
        # instance; (class name, method)
        self.explicit: set[tuple[str, str]] = set()

    def _built_around_instance(self, node: ast.expr) -> tuple[str, int] | None:
        """`Name(..., <instance>, ...)` as (Name, index of the instance argument), else None."""
        if self.fields is not None or not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            return None
        for i, arg in enumerate(node.args):
            if self._is_instance(arg):
                return node.func.id, i
        return None

    def _is_self(self, node: ast.expr) -> bool:
        return self.self_name is not None and isinstance(node, ast.Name) and node.id == self.self_name

    def _is_type_of_instance(self, node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "type"
            and len(node.args) == 1
            and self._is_instance(node.args[0])
        )

    def _is_instance(self, node: ast.expr) -> bool:
        if self.fields is None and self._is_self(node):
            return True
        names = self.aliases if self.fields is None else self.fields
        return isinstance(node, ast.Attribute) and self._is_self(node.value) and node.attr in names

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            if self._is_instance(func.value) or self._is_type_of_instance(func.value):
                self.calls.add(func.attr)  # `type(self).m(...)` dispatches like `self.m(...)`
            elif (
                self.fields is None
                and isinstance(func.value, ast.Name)
                and node.args
                and self._is_instance(node.args[0])
            ):
                self.explicit.add((func.value.id, func.attr))
            elif self.fields is not None and self._is_self(func.value):
                self.own_calls.add(func.attr)
            elif (
                isinstance(func.value, ast.Attribute)
                and func.value.attr in self.delegates
                and self._is_instance(func.value.value)
            ):
                self.delegated.add((func.value.attr, func.attr))
            else:
                built = self._built_around_instance(func.value)
                if built is None and isinstance(func.value, ast.Name):
                    built = self._built_locals.get(func.value.id)
                if built is not None:
                    self.built.add((*built, func.attr))
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        built = self._built_around_instance(node.value)
        for t in node.targets:
            if isinstance(t, ast.Name):
                if built is not None:
                    self._built_locals[t.id] = built
                else:
                    self._built_locals.pop(t.id, None)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self._is_instance(node.value):
            if isinstance(node.ctx, ast.Store):
                self.assigns.setdefault(node.attr, node.lineno)
            elif not isinstance(node.ctx, ast.Del):
                self.refs.add(node.attr)
        elif (
            isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "super"
        ):
            self.supers.add(node.attr)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        t = node.target
        if isinstance(t, ast.Attribute) and self._is_instance(t.value):
            self.annotations.setdefault(t.attr, ast.unparse(node.annotation))
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "setattr"
            and len(call.args) >= 2
            and self._is_instance(call.args[0])
            and isinstance(call.args[1], ast.Constant)
            and isinstance(call.args[1].value, str)
        ):
            self.assigns.setdefault(call.args[1].value, node.lineno)
        self.generic_visit(node)

    def scan(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> _BodyRefs:
        for stmt in fn.body:
            self.visit(stmt)
        return self


def _returned(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    return [n.value for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]


def _is_self_alias(fn: ast.FunctionDef | ast.AsyncFunctionDef, self_name: str | None) -> bool:
    """A property that returns the instance itself: `return self` or `check.inst(self, X)`/`cast(X, self)`."""
    if self_name is None:
        return False
    returns = _returned(fn)
    if not returns:
        return False
    for value in returns:
        if isinstance(value, ast.Name) and value.id == self_name:
            continue
        if isinstance(value, ast.Call) and any(isinstance(a, ast.Name) and a.id == self_name for a in value.args):
            fname = _decorator_name(value.func)
            if fname in ("inst", "cast"):
                continue
        return False
    return True


def _local_imports(fn: ast.AST) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def _self_name(fn: ast.FunctionDef | ast.AsyncFunctionDef, kind: str) -> str | None:
    if kind == STATICMETHOD:
        return None
    args = fn.args.posonlyargs + fn.args.args
    return args[0].arg if args else None


def _ast_signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Signature:
    a = fn.args
    params: list[Parameter] = []
    positional = [(p, POSITIONAL_ONLY) for p in a.posonlyargs] + [(p, POSITIONAL_OR_KEYWORD) for p in a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for (p, kind), d in zip(positional, defaults):
        params.append(_param(p, kind, d))
    if a.vararg:
        params.append(_param(a.vararg, VAR_POSITIONAL, None))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        params.append(_param(p, KEYWORD_ONLY, d))
    if a.kwarg:
        params.append(_param(a.kwarg, VAR_KEYWORD, None))
    returns = ast.unparse(fn.returns) if fn.returns is not None else None
    return Signature(params, returns, ann.normalize(returns))


def _param(p: ast.arg, kind: str, default: ast.expr | None) -> Parameter:
    annotation = ast.unparse(p.annotation) if p.annotation is not None else None
    return Parameter(
        name=p.arg,
        kind=kind,
        default=ast.unparse(default) if default is not None else None,
        annotation=annotation,
        annotation_norm=ann.normalize(annotation),
    )


# names that normalization alone would take for another type: `Set` from collections.abc is the
# abstract set (typing.AbstractSet), not typing.Set (the builtin set)
_CANONICAL_SPELLING = {"collections.abc.Set": "AbstractSet", "typing.AbstractSet": "AbstractSet"}


def _norm_annotation(expr) -> str | None:
    """Normalized text of a griffe annotation, with names griffe resolved to an ambiguous
    canonical path spelled unambiguously first."""
    if expr is None:
        return None
    if not isinstance(expr, griffe.Expr):
        return ann.normalize(str(expr))
    parts = []
    for part in expr.iterate(flat=True):
        if isinstance(part, griffe.ExprName):
            try:
                canonical = part.canonical_path
            except Exception:  # an unresolvable name keeps its spelling
                canonical = None
            parts.append(_CANONICAL_SPELLING.get(canonical, part.name) if canonical else part.name)
        else:
            parts.append(str(part))
    return ann.normalize("".join(parts))


def _griffe_signature(fn: griffe.Function) -> Signature:
    params = []
    for p in fn.parameters:
        annotation = str(p.annotation) if p.annotation is not None else None
        params.append(
            Parameter(
                name=p.name,
                kind=_GRIFFE_KINDS[p.kind.value],
                default=str(p.default) if p.default is not None and p.kind.value not in ("variadic positional", "variadic keyword") else None,
                annotation=annotation,
                annotation_norm=_norm_annotation(p.annotation),
            )
        )
    returns = str(fn.returns) if fn.returns is not None else None
    return Signature(params, returns, _norm_annotation(fn.returns))

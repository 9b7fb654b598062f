"""Witnesses: a breaking cause is proven by a program that passes on the old side and fails on the new.

A static rule says a change *can* break someone; a reviewer who must trust red wants to see it
break. For each cause that could break, this module writes a small program against the old
class, the way its users wrote theirs: a caller's call as the old signature allows, an override
with the old signature called the way the side's own dagster calls it, a ``super()`` reach to a
member, an import of an exported name, an assignment of an attribute, a probe override the base
should reach. The program is the same text on both sides; each side's own interpreter runs it in
a subprocess of its own (a temp dir for its DAGSTER_HOME). Passing on the old side and failing on
the new proves the cause at run time (``proves: runtime``); anything else leaves it unproven, and
an unproven cause is at most a warning (docs/severity.md).

The outcome of a run is one line: ``passed`` (or what the program printed last), or the last
line of the traceback (the exception and its message).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from compat import tempdirs
from compat.causes import Cause, _weaker
from compat.model.errors import CompatError
from compat.model.findings import BREAKING, INFO, WARNING
from compat.model.surface import (
    CLASSMETHOD, KEYWORD_ONLY, METHOD, POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, STATICMETHOD, Member, Surface,
)
from compat.rules.base import bound_params
from compat.witness_run import (  # noqa: F401 - the witnesses' names, read from here by their users
    CALL_SITES, INSTANCE_PARTS, RUNTIME, SETUP_FAILED, TIMEOUT, TYPING, Witness, run_one, unproven_why,
)
from compat.rules.classes import metaclass_changed, slots_changed
from compat.rules.hooks import init_hook_added


# kinds whose witness may raise a cause above the policy's severity (a protected name the base
# made a read-only property, a renamed dunder parameter, a gained dispatch an override fails in)
_RAISED_BY_WITNESS = ("member", "added", "dispatch-gained")
# kinds no witness is written for yet, and why (said in the report, so a warning is explained)
_NOT_YET = {
    "annotations": "no member whose old annotations a typed program can spell",
    "moved": "the members resolve through the MRO with the same signatures: no program written against the old "
             "class reaches them otherwise",
    "decorators": "no witness of a decorator change is written yet (what a decorator does is not in the surface)",
}


# ---- the programs

def _header(target: str) -> str:
    module, _, cls = target.partition(":")
    return f"from {module} import {cls} as Base\n"


# the placeholder instance: a subclass object made without running __init__, enough for what
# a binding or an attribute assignment does
_BLANK = "object.__new__({cls})"


def _old_call_shapes(m: Member) -> list[tuple[list[str], list[str]]]:
    """(positional, keyword) names of the calls an old caller can make: all by position where the
    signature allows, and all by keyword where it allows."""
    params = [p for p in bound_params(m) if p.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, KEYWORD_ONLY)]
    pos_only = [p.name for p in params if p.kind == POSITIONAL_ONLY]
    either = [p.name for p in params if p.kind == POSITIONAL_OR_KEYWORD]
    kw_only = [p.name for p in params if p.kind == KEYWORD_ONLY]
    shapes = [(pos_only + either, kw_only)]
    if either:
        shapes.append((pos_only, either + kw_only))
    return shapes


def _caller_program(m: Member) -> str:
    """The member bound to the calls an old caller makes, each value the name of the old parameter
    it is meant for: a TypeError, or a value landing in another parameter, is the break."""
    calls = []
    for args, kwargs in _old_call_shapes(m):
        a = ", ".join(repr(x) for x in args)
        k = ", ".join(f"{x}={x!r}" for x in kwargs)
        calls.append(f"    call({m.name!r}, [{a}], dict({k}))")
    bound = "" if m.kind in (CLASSMETHOD, STATICMETHOD) else "None, "
    return textwrap.dedent(f"""\
        import inspect


        def call(name, args, kwargs):
            # how Python binds the call before the body runs: each value is the old parameter's name
            shown = ", ".join([repr(a) for a in args] + [f"{{k}}=..." for k in kwargs])
            signature = inspect.signature(getattr(Base, name))
            bound = signature.bind({bound}*args, **kwargs).arguments
            for param, value in bound.items():
                # a positional value in a renamed slot still arrives; one that misses the
                # parameter it was meant for, which still exists, does not
                if isinstance(value, str) and value != param and value in signature.parameters:
                    raise TypeError(f"{{name}}({{shown}}): {{value!r}} is bound to parameter {{param!r}}")


        # calls written against the old signature
        """) + "if True:\n" + "\n".join(calls) + "\n"


# an override with the old signature, called the way this side's dagster calls the member:
def _override_program(m: Member, renamed: tuple[str, ...] = ()) -> str:
    """`renamed`: parameters the old base passed by position, which an override could name as it
    liked (`arg_0`, ...): an override named so is as old as one with the base's own names."""
    params = bound_params(m)
    parts, star = [], False
    for p in params:
        if p.kind == KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind == "var-positional":
            parts.append("*" + p.name)
            star = True
        elif p.kind == "var-keyword":
            parts.append("**" + p.name)
        else:
            name = f"arg_{renamed.index(p.name)}" if p.name in renamed else p.name
            parts.append(name + ("=None" if p.default is not None else ""))
            if p.kind == POSITIONAL_ONLY and not any(q.kind == POSITIONAL_ONLY for q in params[params.index(p) + 1:]):
                parts.append("/")
    sig = ", ".join(["self"] + parts)
    return CALL_SITES + textwrap.dedent(f"""\


        class OldOverride(Base):
            # written against the old signature of `{m.name}`{
            "" if not renamed else ", naming as it liked what the old base passed by position"}
            def {m.name}({sig}):
                return None


        for (n_args, keywords), where in call_sites({m.name!r}):
            try:
                OldOverride.{m.name}({_BLANK.format(cls="OldOverride")}, *[None] * n_args, **dict.fromkeys(keywords))
            except TypeError as e:
                raise TypeError(f"{{e}} (called as {{where}} calls it)") from None
        """)


def _member_program(names: list[str], old: Surface) -> str | None:
    parts = []
    for name in names:
        m = old.members.get(name)
        if m is None or m.kind not in (METHOD, CLASSMETHOD, STATICMETHOD) or m.signature is None:
            continue
        parts.append(_caller_program(m))
        if m.kind == METHOD and not (name.startswith("__") and name.endswith("__")):
            parts.append(_override_program(m))
    return "\n\n".join(parts) if parts else None


def _removed_program(names: list[str]) -> str:
    reads = "\n".join(f"        super().{n}" for n in names)
    return textwrap.dedent("""\


        class OldSubclass(Base):
            def uses_the_base(self):
                # a subclass reaching the base's members as it could on the old side
        """) + reads + "\n\n\n" + f"{_BLANK.format(cls='OldSubclass')}.uses_the_base()\n"


def _assign_program(names: list[str]) -> str:
    sets = "\n".join(f"        self.{n} = 'set by the subclass'" for n in names)
    return textwrap.dedent("""\


        class OldSubclass(Base):
            def keep(self):
                # a subclass keeping its own state under names the old base did not use
        """) + sets + "\n\n\n" + f"{_BLANK.format(cls='OldSubclass')}.keep()\n"


def _placeholders(m: Member) -> str:
    """An argument for each required parameter of `m`: a real value where its old annotation
    names one the program can build (`argument(kind)`, below), else None, enough for a member
    that reaches the hook before it uses it (when the old side does not get that far, the
    witness shows nothing)."""
    params = [p for p in bound_params(m) if p.required]

    def value(p) -> str:
        kind = _argument_kind(p.annotation)
        return f"argument({kind!r})" if kind else "None"

    return ", ".join((value(p) if p.kind != KEYWORD_ONLY else f"{p.name}={value(p)}") for p in params)


# the old annotations whose values a probe builds for real, and how (kinds of `argument`)
_BUILT_KINDS = ("str", "int", "float", "bool", "DagsterRun", "DagsterEvent", "EventLogEntry", "JobDefinition",
                "AssetKey")


def _argument_kind(annotation: str | None) -> str | None:
    """What `argument(kind)` builds for a parameter of this old annotation; None: a placeholder."""
    a = (annotation or "").strip().strip("'\"")
    inner = re.fullmatch(r"Optional\[(.*)\]", a)
    a = inner.group(1) if inner else a
    if a in _BUILT_KINDS:
        return a
    if re.fullmatch(r"(Iterable|Sequence|AbstractSet|Set|list|List)\[AssetKey\]", a):
        return "AssetKeys"
    if a == "AssetMaterialization" or a.startswith("Union[AssetMaterialization,"):
        return "AssetMaterialization"
    return None


def _buildable(m: Member) -> bool:
    """Every required parameter of `m` gets a real value, not a placeholder."""
    return all(_argument_kind(p.annotation) for p in bound_params(m) if p.required)


# real arguments of the kinds above, built the same way on both sides (a side that cannot build
# one shows nothing: exit 3)
_ARGUMENTS = textwrap.dedent("""

    def argument(kind):
        try:
            if kind in ("str", "int", "float", "bool"):
                return {"str": "compat", "int": 0, "float": 0.0, "bool": False}[kind]
            if kind in ("AssetKey", "AssetKeys", "AssetMaterialization"):
                from dagster import AssetKey, AssetMaterialization

                key = AssetKey(["compat"])
                return {"AssetKey": key, "AssetKeys": [key], "AssetMaterialization": AssetMaterialization(key)}[kind]
            if kind == "DagsterRun":
                from dagster._core.storage.dagster_run import DagsterRun

                return DagsterRun(job_name="compat_job", run_id="00000000-0000-0000-0000-00000000c0de")
            if kind in ("DagsterEvent", "EventLogEntry"):
                from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
                from dagster._core.events.log import EventLogEntry

                event = DagsterEvent(event_type_value=DagsterEventType.ENGINE_EVENT.value, job_name="compat_job",
                                     message="compat", event_specific_data=EngineEventData())
                if kind == "DagsterEvent":
                    return event
                return EventLogEntry(error_info=None, level="INFO", user_message="compat",
                                     run_id="00000000-0000-0000-0000-00000000c0de", timestamp=0.0,
                                     dagster_event=event)
            if kind == "JobDefinition":
                from dagster import job, op

                @op
                def compat_op():
                    return 1

                @job
                def compat_job():
                    compat_op()

                return compat_job
        except Exception as e:
            print(f"set-up failed: cannot build a {kind}: {type(e).__name__}: {e}", file=sys.stderr)
            raise SystemExit(3)
        raise AssertionError(kind)
    """)


def _probe_program(target: str, hook: str, edited: str, hook_member: Member | None, args: str = "") -> str:
    """A probe override of `hook` on an in-memory instance, and a call of `edited` (placeholders
    for its required arguments): the base reaching the override is what the old side did."""
    prop = hook_member is not None and hook_member.kind in ("property", "cached_property")
    body = (f"    @property\n    def {hook}(self):\n        raise Reached\n" if prop else
            f"    def {hook}(self, *args, **kwargs):\n        raise Reached\n")
    return INSTANCE_PARTS + (_ARGUMENTS if "argument(" in args else "") + textwrap.dedent("""\


        class Reached(Exception):
            pass


        class Probe(Base):
        """) + body + textwrap.dedent(f"""\


        arguments = instance_arguments()
        try:
            instance = Probe(**arguments)
        except Exception as e:
            print(f"set-up failed: {{type(e).__name__}}: {{e}}", file=sys.stderr)
            raise SystemExit(3)
        try:
            instance.{edited}({args})
        except Reached:
            print("the override of {hook} was reached from {edited}")
        except Exception as e:  # the placeholders stopped the call first: it shows nothing (exit 3)
            print(f"{edited}({args}) raised before reaching {hook}: {{type(e).__name__}}: {{e}}",
                  file=sys.stderr)
            raise SystemExit(3)
        else:
            raise SystemExit("AssertionError: {edited}() returned without reaching the override of {hook}")
        """)


def _init_hook_program(hook: Member) -> str:
    """A subclass that sets its own state after `super().__init__()` (as subclasses do) and
    whose override of `hook` reads it: a base `__init__` that now reaches the hook runs the
    override before that state exists."""
    prop = hook.kind in ("property", "cached_property")
    override = (f"    @property\n    def {hook.name}(self):\n        self._own_state  # set by this subclass's __init__\n"
                f"        return super().{hook.name}\n") if prop else (
                f"    def {hook.name}(self, *args, **kwargs):\n        self._own_state  # set by this subclass's __init__\n"
                f"        return super().{hook.name}(*args, **kwargs)\n")
    return INSTANCE_PARTS + textwrap.dedent("""\


        class OldSubclass(Base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._own_state = "the subclass's own"

        """) + override + "\n\n" + textwrap.dedent(f"""\
        arguments = instance_arguments()
        OldSubclass(**arguments)  # the base's __init__ runs the override before the subclass's own state is set
        print("constructed without the base reaching {hook.name} first")
        """)


def program(c: Cause, old: Surface, target: str) -> tuple[str | None, str]:
    """(the witness program of a cause, or None and why there is none)."""
    head = _header(target)
    members = sorted({f.member if f.source == "surface" else f.member.split(".", 1)[-1]
                      for f in c.findings if f.source in ("surface", "profile")})
    if c.kind == "import":  # the old import path of the class itself
        module, _, name = c.subject.rpartition(".")
        if module:
            return f"from {module} import {name}\n\nprint('imported', {name}.__name__)\n", ""
        return None, "not a dotted import path"
    if c.kind == "exports":
        module = c.subject
        names = sorted({m.rsplit(".", 1)[-1] for m in members})
        return f"from {module} import {', '.join(names)}\n\nprint('imported', {len(names)}, 'names')\n", ""
    if c.kind in ("removed", "renamed"):
        names = [n for n in members if n in old.members and old.members[n].kind != "class_attribute"
                 and not n.startswith("self.")]
        if c.kind == "renamed":
            names = [c.subject]
        if names:
            return head + _removed_program(names), ""
        return None, "the removed names are instance attributes (no class-level read to witness)"
    if c.kind == "member":
        code = _member_program([n for n in members if n in old.members], old)
        if code:
            return head + "\n" + code, ""
        return None, "no callable member with a signature to bind"
    if c.kind in ("added", "name-clash", "attribute"):
        names = [n.removeprefix("self.") for n in members if n.removeprefix("self.").startswith("_")
                 and not n.endswith("__")]
        if c.kind != "added":
            names = [c.subject if c.subject.startswith("_") else "_" + c.subject] if not names else names
        if names:
            return head + _assign_program(sorted(set(names))), ""
        return None, "no protected name a subclass could assign"
    if c.kind in ("dispatch-lost", "dispatch-changed", "dispatch-obscured"):
        hooks = _hooks(c)
        # an edited member without arguments first: its probe says the most; then one whose
        # required arguments are all built for real (a run, an event, a job)
        probes = _probes(c, old, target, hooks, _probe_order(old))
        if probes:
            return probes[0], ""
        return None, "no edited member is a method a probe can call"
    if c.kind == "dispatch-gained":
        hook = old.members.get(c.subject)
        if hook is None:
            return None, "the member the base now reaches is new: no old subclass overrides it"
        if "__init__" in c.edited or any(f.rule == init_hook_added.rule_id for f in c.findings):
            return head + _init_hook_program(hook), ""
        if hook.kind == METHOD and hook.signature is not None:
            # an override with the old signature, bound to every call the side's dagster makes
            # of it, the new one included
            return head + "\n" + _override_program(hook), ""
        return None, (f"`{c.subject}` is read without arguments: an old override of it copes with the new "
                      f"read as with any other, unless the base's __init__ reaches it")
    if c.kind == "dispatch-arguments":
        hook = old.members.get(c.subject)
        olds = [(f.details or {}).get("old_call") for f in c.findings if f.source == "behaviour"]
        if hook is None or hook.kind != METHOD or hook.signature is None or not olds or not all(olds):
            return None, "no old call shape of a method to write an override against"
        n = min(len(o.get("args") or []) for o in olds)
        by_position = tuple(p.name for p in bound_params(hook)[:n]
                            if p.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD))
        return head + "\n" + _override_program(hook, by_position), ""
    if c.kind == "class":
        ancestors = sorted({a for f in c.findings for d in [f.details or {}] for a in (d.get("base"), d.get("ancestor"))
                            if a and "." in a})
        if ancestors:
            return head + _ancestors_program(ancestors), ""
        if any(f.rule in (metaclass_changed.rule_id, slots_changed.rule_id) for f in c.findings):
            return None, ("no witness of a metaclass or __slots__ change is written yet (a subclass's own "
                          "__slots__ or metaclass meets the new one only in its own code)")
        return None, f"no witness of a `{c.subject}` change of the class is written yet"
    return None, _NOT_YET.get(c.kind, f"no witness of a `{c.kind}` change is written yet")


def _ancestors_program(paths: list[str]) -> str:
    """Code written against the old class that checks instances against its old ancestors
    (`isinstance(instance, DynamicPartitionsStore)`): each must still be importable where it was
    and still be in the MRO."""
    imports = "".join(f"from {p.rpartition('.')[0]} import {p.rpartition('.')[2]} as Ancestor{i}\n"
                      for i, p in enumerate(paths))
    pairs = ", ".join(f"({p!r}, Ancestor{i})" for i, p in enumerate(paths))
    return "\n# the old class's ancestors, imported where they were\n" + imports + textwrap.dedent(f"""\


        for name, ancestor in [{pairs}]:
            if not issubclass(Base, ancestor):
                raise SystemExit(f"AssertionError: {{Base.__name__}} is no longer a subclass of {{name}}")
        print("every old ancestor is still in the MRO")
        """)


def _hooks(c: Cause) -> list[str]:
    """The overridable members a dispatch cause's probe overrides."""
    if c.kind == "dispatch-lost":
        return [c.subject]
    return sorted({h for f in c.findings for h in [(f.details or {}).get("hook"), *((f.details or {}).get("hooks") or [])]
                   if h})


MAX_PROBES = 3  # edited members a lost dispatch's probe tries on the old side, in order


def _probes(c: Cause, old: Surface, target: str, hooks: list[str], order) -> list[str]:
    """The probe programs of a dispatch cause, best first: one per edited method (its first hook),
    at most MAX_PROBES; the first whose call reaches the hook on the old side is the witness."""
    out = []
    for edited in sorted(c.edited or [c.subject], key=order):
        m = old.members.get(edited)
        if m is None or m.kind != METHOD or not hooks:
            continue
        out.append(_header(target) + _probe_program(target, hooks[0], edited, old.members.get(hooks[0]),
                                                    _placeholders(m)))
    return out[:MAX_PROBES]


def _probe_order(old: Surface):
    def order(e: str) -> tuple[bool, bool, str]:
        m = old.members.get(e)
        if m is None:
            return True, True, e
        return any(p.required for p in bound_params(m)), not _buildable(m), e
    return order


# ---- typing witnesses: the same kind of program, written with the old annotations, for a checker

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


# ---- running

def cell_witness(c: Cause) -> Witness | None:
    """A behaviour cell or stored fuzz program that already ran on both sides' interpreters and
    broke on the new one: it is a witness of its own (its reproduction, when it has one, is the
    program; else the cell's name, which `compat check --cells` replays)."""
    shown = [f for f in c.findings if f.source in ("behaviour", "fuzz") and f.severity == BREAKING]
    if not shown or c.severity != BREAKING:
        # a cell shows a difference; it proves a break only where the policy says the difference
        # is one (a gained dispatch or a keyword-to-positional forwarding is not, by itself)
        return None
    f = min(shown, key=lambda f: (f.source != "fuzz", f.member))
    code = c.reproduction if f.source == "fuzz" and c.reproduction else (
        f"# behaviour cell {f.member}, replayed by the harness on both sides\n# {f.message}\n")
    def first(text: str | None) -> str:
        """The diverging line of a dispatch context (marked `> `), else the first line."""
        lines = (text or "").strip().splitlines() or ["-"]
        return next((ln[2:] for ln in lines if ln.startswith("> ")), lines[0])[:200]

    w = Witness(c.id, code, first(f.old), first(f.new), True, False)
    return w


def witness(c: Cause, old: Surface, target: str, pythons: tuple[str, str]) -> tuple[Witness | None, str]:
    code, why = program(c, old, target)
    if code is None:
        w = cell_witness(c)
        return (w, "") if w is not None else (None, why)
    w = Witness(c.id, code)
    w.old_ok, w.old = run_one(code, pythons[0])
    if w.old_ok is None and c.kind in _PROBED:
        # the probe's arguments stopped the old side before the hook: another edited member may
        # reach it (report_run_canceled with a real run, where report_engine_event needs more)
        hooks = _hooks(c)
        for other in _probes(c, old, target, hooks, _probe_order(old))[1:]:
            ok, line = run_one(other, pythons[0])
            if ok is not None:
                w.code, w.old_ok, w.old = other, ok, line
                break
    w.new_ok, w.new = run_one(w.code, pythons[1])
    return w, ""


_PROBED = ("dispatch-lost", "dispatch-changed", "dispatch-obscured")


def candidates(causes: Iterable[Cause]) -> list[Cause]:
    """The causes a witness is written for: all that could break, and those a witness may raise."""
    return [c for c in causes if c.severity != INFO or c.kind in _RAISED_BY_WITNESS and c.why]


def needed(causes: list[Cause], old: Surface, new: Surface | None) -> bool:
    """Whether anything is to be put to a witness: a cause that could break, or a return contract."""
    from compat import returns

    return bool(candidates(causes) or returns.candidates(causes, old, new))


def attach(causes: list[Cause], old: Surface, target: str, pythons: tuple[str, str], *, jobs: int = 1,
           new: Surface | None = None) -> dict[str, str]:
    """Run the witnesses of `causes` on both sides and let them decide: proven at run time, or
    under the type checker, is breaking; a cause that could break and is not proven is a warning,
    marked unproven. Then put each method whose return annotation changed to its return contract
    (compat.returns): a proven one is a cause of its own, appended to `causes`. Returns the
    members put to no return contract, or to one that proved nothing, with why."""
    from compat import returns

    todo = candidates(causes)
    for c, (w, why) in zip(todo, witnesses(todo, old, target, pythons, jobs=jobs)):
        judge(c, w, why)
    proven, skipped = returns.contracts(causes, old, new, target, pythons, jobs=jobs)
    causes.extend(proven)
    return skipped


def witnesses(todo: list[Cause], old: Surface, target: str, pythons: tuple[str, str], *,
              jobs: int = 1) -> list[tuple[Witness | None, str]]:
    """Each cause's witness and, when none proves it, why: its runtime witness first; where that
    proves nothing and the cause is a signature or annotation change, its typing witness, all of
    them type-checked in one batch per side."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda c: witness(c, old, target, pythons), todo))
    modules = _OldModules(pythons[0])
    typed: dict[int, Witness] = {}
    reasons: dict[int, str] = {}
    for i, (c, (w, _)) in enumerate(zip(todo, results)):
        if c.kind in _TYPED_KINDS and not (w is not None and w.proves):
            code, why = typing_program(c, old, target, modules)
            if code is not None:
                typed[i] = Witness(c.id, code, kind=TYPING)
            else:
                reasons[i] = why
    if typed:
        from compat import typecheck

        codes = [w.code for w in typed.values()]
        try:
            with ThreadPoolExecutor(max_workers=2 if jobs > 1 else 1) as pool:
                old_out, new_out = pool.map(lambda py: typecheck.check(codes, py), pythons)
        except CompatError as e:  # no checker (no package index, say): the typing witnesses show nothing
            old_out = new_out = [(None, str(e))] * len(codes)
        for w, (o_ok, o), (n_ok, n) in zip(typed.values(), old_out, new_out):
            w.old_ok, w.old, w.new_ok, w.new = o_ok, o, n_ok, n
    out = []
    for i, (w, why) in enumerate(results):
        t = typed.get(i)
        if t is None:
            if w is None and i in reasons and todo[i].kind == "annotations":
                why = reasons[i]
            out.append((w, why))
        elif w is not None and w.proves:
            out.append((w, why))
        elif t.proves or w is None:
            out.append((t, "" if t.proves else (why + "; " if why and w is not None else "")
                        + unproven_why(t)))
        else:  # neither proves: the runtime witness is shown, the reason says both
            out.append((w, f"{unproven_why(w)}; {unproven_why(t)}"))
    return out


def judge(c: Cause, w: Witness | None, why: str) -> None:
    if w is not None:
        c.witness = w.to_dict()
    if w is not None and w.proves:
        if c.severity != BREAKING:
            c.why = f"raised to breaking by its witness ({c.why})" if c.why else "its witness fails on the new side"
        c.severity = BREAKING
        c.unproven = None
        return
    if w is not None and not why:
        why = unproven_why(w)
    c.unproven = why
    if c.severity == BREAKING:
        c.severity = _weaker(BREAKING, WARNING)
        c.why = f"unproven: {why}"


def write_dir(causes: Iterable[Cause], out: str | Path) -> list[Path]:
    """Each witness as a runnable file `<cause id>.py`, with both outcomes in its head."""
    from compat.model.jsonio import write_atomic

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CompatError(f"--witness-dir {out}: {e.strerror}") from None
    written = []
    for c in causes:
        if c.witness is None:
            continue
        w = Witness(c.id, c.witness["code"], c.witness["old"], c.witness["new"])
        head = (f"# witness of {c.id} ({c.witness['proves'] or 'unproven'})\n# old side: {w.old}\n"
                f"# new side: {w.new}\n")
        if c.witness.get("kind") == TYPING:
            from compat.typecheck import CHECKER_PIN

            head += f"# a typing witness: check it with {CHECKER_PIN}, `mypy --python-executable PYTHON {w.filename()}`\n"
        written.append(write_atomic(out / w.filename(), head + w.code))
    return written


__all__ = ["Witness", "attach", "candidates", "judge", "needed", "program", "run_one", "typing_program", "witness", "witnesses",
           "write_dir"]

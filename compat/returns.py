"""Return contracts: the new base must still accept what the old base answered.

A subclass written against the old release overrides a member and returns what the old base
returned: `None` from a health-state read that the old base itself answered with `None`, say.
When the new release's own code starts relying on a narrower answer (a mapping, never `None`),
that override breaks at run time inside dagster, where no signature and no behaviour cell of
the plain base shows anything: the base's own answer is the new one.

For each overridable method whose return annotation changed, this module

1. records on the old side what the old base answers when dagster's own code calls it: every
   call site ``<...instance>.m(...)`` (and ``self.m(...)`` inside the instance's package) whose
   enclosing function a program can call without building another object (a module function, a
   classmethod or staticmethod, a method of the instance itself), called with placeholder
   arguments on a real in-memory instance whose override of ``m`` notes each answer by the
   shape of the call (the argument types). Only answers that are plain data (None, numbers,
   strings, and lists, tuples and dicts of them) can be rebuilt as values in a program; a member
   with none is skipped, and why is said;
2. writes the witness: an override of ``m`` that answers each call whose shape was recorded with
   the old answer and falls back to ``super()`` for any other, and the same call sites of the
   side's own dagster, each called once with a plain instance and once with the override. A call
   site the plain instance cannot run either shows nothing (the placeholders stopped it); one that
   runs with the plain instance and fails with the old answers is the break.

The witness is the same text on both sides. Passing on the old side (where the old answers are
the base's own) and failing on the new proves a cause of its own kind, ``return-contract:<m>``,
breaking at run time (docs/severity.md). Nothing is reported for a member whose witness proves
nothing. Placeholder calls are deterministic: the call sites are sorted, and so are the shapes.
"""

from __future__ import annotations

import ast
import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from compat.causes import Cause
from compat.model.findings import BREAKING, SUBCLASSES, Finding
from compat.model.surface import METHOD, Surface
from compat.rules.typehints import return_annotation_changed
from compat.witness_run import CALL_SITES, INSTANCE_PARTS

KIND = "return-contract"
RULE = "return-contract-broken"
RETURN_RULE = return_annotation_changed.rule_id  # the surface rule whose members are put to a return contract
MAX_SITES = 40  # call sites per member a witness calls (the first, in sorted order)
CALL_SECONDS = 20  # one placeholder call: longer is a call that waits for something, not a contract

# the parts both programs share: the call sites of a member in the side's installed dagster, the
# callable that encloses each, the placeholders it is called with, and a real in-memory instance
_SITES = textwrap.dedent('''\
    import ast
    import importlib
    import importlib.util
    import inspect
    import signal
    import sys
    import tempfile
    import types
    from pathlib import Path
    ''') + INSTANCE_PARTS + "\n\n" + CALL_SITES + "\n\n" + textwrap.dedent('''\
    def make(cls):
        try:
            return cls(**instance_arguments())
        except Exception as e:
            print(f"set-up failed: {type(e).__name__}: {e}", file=sys.stderr)
            raise SystemExit(3)


    def shape(args, kwargs):
        # what a call is matched by: the types of its arguments, by position and by keyword
        return (tuple(type(a).__name__ for a in args), tuple(sorted((k, type(v).__name__) for k, v in kwargs.items())))


    def enclosed_call_sites(name, limit):
        """(file:line, module, [class, function]) of each call `<...instance>.name(...)` (or
        `self.name(...)` in the instance's package) whose enclosing function is a module function
        or a member of a module-level class, sorted, the first `limit`."""
        found = []
        for root, path, tree, own in dagster_trees(name):
            module = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")

            def visit(node, where):
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.ClassDef):
                        visit(child, where + [("class", child.name)])
                    elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        visit(child, where + [("def", child.name)])
                    else:
                        if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                                and child.func.attr == name):
                            receiver = ast.unparse(child.func.value)
                            if receiver.lower().endswith("instance") or (own and receiver == "self"):
                                kinds = [k for k, _ in where]
                                if kinds in (["def"], ["class", "def"]):
                                    at = f"{path.relative_to(root.parent).as_posix()}:{child.lineno}"
                                    found.append((at, module, [n for _, n in where], receiver == "self"))
                        visit(child, where)

            visit(tree, [])
        unique = {}
        for at, module, names, on_self in found:  # one per enclosing function
            unique.setdefault((module, tuple(names)), (at, module, names, on_self))
        return sorted(unique.values())[:limit]


    class Context:
        """A placeholder for a context parameter: what dagster's code reads the instance from."""

        def __init__(self, instance):
            self.instance = instance


    def target(site, instance):
        """The callable enclosing a call site, bound as a caller reaches it, or None."""
        at, module, names, on_self = site
        try:
            mod = importlib.import_module(module)
        except BaseException:
            return None
        if len(names) == 1:
            fn = getattr(mod, names[0], None)
        else:
            owner = getattr(mod, names[0], None)
            if not isinstance(owner, type):
                return None
            raw = inspect.getattr_static(owner, names[1], None)
            if isinstance(raw, (classmethod, staticmethod)):
                fn = getattr(owner, names[1])
            elif on_self and isinstance(instance, owner):
                fn = getattr(instance, names[1], None)  # the instance's own method
            else:
                return None  # a method of another object: it cannot be called without one
        if not callable(fn) or inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            return None
        return fn


    def placeholders(fn, instance):
        """Arguments for each required parameter, by its name: the instance, a context holding
        it, a one-item list for a plural name, else None."""
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            return None
        args, kwargs = [], {}
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
                continue
            name = p.name.lower()
            value = (instance if name == "instance" or name.endswith("_instance") else
                     Context(instance) if "context" in name else [None] if name.endswith("s") else None)
            if p.kind == p.KEYWORD_ONLY:
                kwargs[p.name] = value
            else:
                args.append(value)
        return args, kwargs


    class Slow(Exception):
        pass


    def _alarm(*_):
        raise Slow("the call did not return in time")


    def run(site, instance):
        """None when the call returned (a generator is run to its end), else the exception."""
        fn = target(site, instance)
        bound = placeholders(fn, instance) if fn is not None else None
        if bound is None:
            return "not callable here"
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(CALL_SECONDS)
        try:
            out = fn(*bound[0], **bound[1])
            if inspect.isgenerator(out):
                for _ in out:
                    pass
            return None
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            return e
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    ''')


def _header(target: str, member: str) -> str:
    module, _, cls = target.partition(":")
    return (f"from {module} import {cls} as Base\n\nMEMBER = {member!r}\nMAX_SITES = {MAX_SITES}\n"
            f"CALL_SECONDS = {CALL_SECONDS}\n\n")


def _recorder(target: str, members: list[str]) -> str:
    """The old side's program: each member's answers, by the shape of the call, as its last line
    of output (JSON: member -> [[shape repr, answer repr or null], ...])."""
    module, _, cls = target.partition(":")
    return f"from {module} import {cls} as Base\n\nMAX_SITES = {MAX_SITES}\nCALL_SECONDS = {CALL_SECONDS}\n\n" + \
        _SITES + textwrap.dedent(f'''\


        import json


        def plain(value):
            if value is None or type(value) in (bool, int, float, str):
                return True
            if type(value) in (list, tuple):
                return all(plain(v) for v in value)
            if type(value) is dict:
                return all(plain(k) and plain(v) for k, v in value.items())
            return False


        noted = {{}}


        def recording(name):
            def answer(self, *args, **kwargs):
                value = getattr(super(Recording, self), name)(*args, **kwargs)
                noted.setdefault(name, []).append((repr(shape(args, kwargs)), repr(value) if plain(value) else None))
                return value
            return answer


        MEMBERS = {members!r}
        Recording = type("Recording", (Base,), {{m: recording(m) for m in MEMBERS}})
        instance = make(Recording)
        for m in MEMBERS:
            for site in enclosed_call_sites(m, MAX_SITES):
                run(site, instance)
        print(json.dumps({{m: sorted(set(noted.get(m, [])), key=lambda a: (a[0], a[1] or "")) for m in MEMBERS}}))
        ''')


def _witness(target: str, member: str, answers: dict[str, str]) -> str:
    """The witness program of one member: its old answers by shape, the override that gives
    them, and every callable call site run with a plain instance and with the override."""
    lines = "".join(f"    {shape}: {value},\n" for shape, value in sorted(answers.items()))
    return _header(target, member) + _SITES + textwrap.dedent('''\


        # what the old base answered when dagster's code called it, by the shape of the call
        ANSWERS = {
        ''') + lines + textwrap.dedent('''\
        }


        class OldAnswers(Base):
            # an override written against the old base: it returns what the old base returned
            def {member}(self, *args, **kwargs):
                known = ANSWERS.get(shape(args, kwargs), ANSWERS)
                if known is not ANSWERS:
                    return known
                return super().{member}(*args, **kwargs)


        plain, old = make(Base), make(OldAnswers)
        ran, broke = 0, []
        for site in enclosed_call_sites(MEMBER, MAX_SITES):
            if run(site, plain) is not None:
                continue  # the placeholders stop the plain base too: this call site shows nothing
            ran += 1
            error = run(site, old)
            if error is not None:
                broke.append(f"{type(error).__name__}: {error} (at {site[0]}, with the old answer)")
        if broke:
            raise SystemExit(broke[0])
        if not ran:
            print(f"no call site of {MEMBER} runs with placeholder arguments", file=sys.stderr)
            raise SystemExit(3)
        print(f"the base accepts the old answers of {MEMBER} at {ran} call site(s)")
        ''').replace("{member}", member)


def candidates(causes: list[Cause], old: Surface, new: Surface | None) -> list[str]:
    """The overridable methods whose return annotation changed, present on both sides."""
    names = sorted({f.member for c in causes for f in c.findings if f.rule == RETURN_RULE and f.source == "surface"})
    out = []
    for name in names:
        m = old.members.get(name)
        if m is None or m.kind != METHOD or (name.startswith("__") and name.endswith("__")):
            continue
        if new is not None and name not in new.members:
            continue
        out.append(name)
    return out


def _parse_answers(line: str, members: list[str]) -> dict[str, Any]:
    """The recorder's last line, checked against its schema: member -> list of [shape, answer]."""
    from compat.model.errors import CompatError

    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        raise CompatError(f"the return-contract recorder printed no answers: {line[:120]}") from None
    if not isinstance(data, dict) or set(data) - set(members):
        raise CompatError("the return-contract recorder's answers are not a mapping of the members asked for")
    for name, pairs in data.items():
        if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and (p[1] is None or isinstance(p[1], str))
                for p in pairs):
            raise CompatError(f"the return-contract recorder's answers of {name!r} are not [shape, answer] pairs")
        for shape, value in pairs:  # both are Python literals the witness program embeds
            try:
                ast.literal_eval(shape)
                if value is not None:
                    ast.literal_eval(value)
            except (ValueError, SyntaxError):
                raise CompatError(f"the return-contract recorder's answer of {name!r} is not a literal") from None
    return data


def record(target: str, members: list[str], python: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """(member -> {shape: old answer}, member -> why it is skipped) from one run on the old side."""
    from compat.witness_run import run_one

    ok, line = run_one(_recorder(target, members), python)
    if not ok:
        return {}, {m: f"the old side's answers could not be recorded ({line})" for m in members}
    data = _parse_answers(line, members)
    answers, skipped = {}, {}
    for m in members:
        usable, why = usable_answers(data.get(m) or [])
        if usable:
            answers[m] = usable
        else:
            skipped[m] = why
    return answers, skipped


def usable_answers(pairs: list[list]) -> tuple[dict[str, str], str]:
    """({shape: answer} a program can give, or why none): a shape the old base answered with
    something other than plain data, or with different values, is left to ``super()``."""
    by_shape: dict[str, set] = {}
    for shape, value in pairs:
        by_shape.setdefault(shape, set()).add(value)
    usable = {s: next(iter(v)) for s, v in sorted(by_shape.items()) if len(v) == 1 and None not in v}
    if usable:
        return usable, ""
    if not pairs:
        return {}, "no call site of it in the old dagster runs with placeholder arguments"
    if any(None in v for v in by_shape.values()):
        return {}, "the old answers are not plain data a program can rebuild (a dagster object, say)"
    return {}, "the old base answered calls of the same shape differently"


def contracts(causes: list[Cause], old: Surface, new: Surface | None, target: str, pythons: tuple[str, str], *,
              jobs: int = 1, only: list[str] | None = None) -> tuple[list[Cause], dict[str, str]]:
    """The return-contract causes the witnesses prove (breaking, at run time), and the members
    put to none or to one that proves nothing, with why. ``only``: these members (of the candidates)."""
    from compat.witness_run import Witness, run_one

    members = [m for m in candidates(causes, old, new) if only is None or m in only]
    if not members:
        return [], {}
    answers, skipped = record(target, members, pythons[0])

    def put(m: str) -> Witness:
        w = Witness(f"{KIND}:{m}", _witness(target, m, answers[m]))
        w.old_ok, w.old = run_one(w.code, pythons[0])
        w.new_ok, w.new = run_one(w.code, pythons[1])
        return w

    todo = sorted(answers)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = list(pool.map(put, todo))
    out = []
    for m, w in zip(todo, done):
        if not w.proves:
            from compat.witness_run import unproven_why

            skipped[m] = unproven_why(w)
            continue
        out.append(_cause(m, w, old))
    return out, skipped


def _cause(member: str, w, old: Surface) -> Cause:
    m = old.members[member]
    returns = m.signature.returns if m.signature is not None else None
    finding = Finding(
        rule=RULE, severity=BREAKING, audience=SUBCLASSES, member=member,
        message=(f"an override of `{member}` that returns what the old base returned now fails inside dagster: "
                 f"{w.new}"),
        old=w.old, new=w.new, source="witness", details={"old_returns": returns})
    return Cause(
        id=f"{KIND}:{member}", kind=KIND, subject=member, severity=BREAKING,
        title=f"the new base no longer accepts what the old `{member}` returned",
        location=None, findings=[finding], witness=w.to_dict(),
        why="its witness fails on the new side: an override returning the old base's answer breaks dagster's "
            "own callers",
        fix=(f"Keep accepting every answer the old `{member}` could give (`{returns}`) where dagster calls it, "
             f"or document the narrowed return for subclass authors."))


__all__ = ["KIND", "RULE", "candidates", "contracts", "record", "usable_answers"]

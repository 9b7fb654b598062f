"""The witness programs: for each cause that could break, a program written against the old class.

A caller's call as the old signature allows, an override with the old signature called the way
the side's own dagster calls it, a ``super()`` reach to a member, an import of an exported name,
an assignment of an attribute, a probe override the base should reach: :func:`program` writes
the one a cause's kind calls for, or says why none is written. Nothing here runs a program;
:mod:`compat.witness` runs them on both sides and judges the cause by their outcomes.
"""

from __future__ import annotations

import re
import textwrap

from compat.causes import Cause
from compat.model.surface import (
    CLASSMETHOD, KEYWORD_ONLY, METHOD, POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, STATICMETHOD, Member, Surface,
)
from compat.rules.base import bound_params
from compat.rules.classes import metaclass_changed, slots_changed
from compat.rules.hooks import init_hook_added
from compat.witness_run import CALL_SITES, INSTANCE_PARTS


# kinds no witness is written for yet, and why (said in the report, so a warning is explained)
_NOT_YET = {
    "annotations": "no member whose old annotations a typed program can spell",
    "moved": "the members resolve through the MRO with the same signatures: no program written against the old "
             "class reaches them otherwise",
    "decorators": "no witness of a decorator change is written yet (what a decorator does is not in the surface)",
}


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
    members = sorted({f.member if f.source == "surface" else f.details["member_name"]
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

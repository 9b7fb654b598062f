"""`compat contract`: the subclass contract of the target, written down from a baseline.

What a subclass may rely on is already in a baseline, spread over its files: the surface knows
every member and the `self.<member>` references each base method makes (the static half of
the hook contract), the traces know which base methods did dispatch to which member when the
scenarios ran (the behaviour half), and the profiles know what real subclasses override, read,
forward and create. This module gathers them into one markdown document a maintainer can ship
and review. It is built from the baseline alone (no environment, nothing imported), sorted
everywhere, and free of line numbers (which move with every edit), so two baselines give two
documents whose plain diff is the change of contract (`compat contract --against B` prints it).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field

from compat.model import schemas
from compat.baseline import Baseline
from compat.model.surface import (
    CLASS_ATTRIBUTE,
    CLASSMETHOD,
    DUNDER,
    KEYWORD_ONLY,
    POSITIONAL_OR_KEYWORD,
    PROTECTED,
    STATICMETHOD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    Surface,
)
from compat.model.profile import CLASS_HOOKS

# dunders a subclass legitimately overrides as part of the instance's life cycle
_LIFECYCLE_DUNDERS = ("__init__", "__enter__", "__exit__", "__del__")


def _short(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _code(names) -> str:
    return ", ".join(f"`{n}`" for n in names) or "-"


def _esc(text: str) -> str:
    return text.replace("|", "\\|")


@dataclass
class _User:
    """Who uses a name: `dagster-cloud DagsterCloudInstance.dispose`."""

    package: str
    cls: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.package} {self.cls}" + (f".{self.where}" if self.where else "")


def _observed_dispatches(base: Baseline) -> dict[str, set[tuple[str, str]]]:
    """member -> {(caller, caller class)}: dispatches through `self` the traces recorded."""
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in base.trace_files():
        for ev in schemas.read_trace(path).get("dispatch", []):
            if ev.get("via") == "self" and ev.get("caller") and ev.get("member"):
                seen[ev["member"]].add((ev["caller"], ev.get("caller_class") or "?"))
    return seen


def _reached_from_init(surface: Surface) -> list[str]:
    """Members `__init__` reaches through `self`, transitively over base members."""
    todo = ["__init__"]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        m = surface.members.get(name)
        if m is None:
            continue
        for ref in m.self_refs:
            if ref in surface.members and ref not in seen and ref != "__init__":
                seen.add(ref)
                todo.append(ref)
    return sorted(seen)


def _overridable(surface: Surface) -> list[str]:
    return sorted(n for n, m in surface.members.items()
                  if m.visibility != DUNDER or n in _LIFECYCLE_DUNDERS)


@dataclass
class _Uses:
    """Who uses what of the base, from the profiles: overrides, protected names read or written,
    names the subclasses create themselves."""

    overridden: dict[str, list[_User]] = field(default_factory=lambda: defaultdict(list))
    attr_readers: dict[str, list[_User]] = field(default_factory=lambda: defaultdict(list))
    created: dict[str, list[_User]] = field(default_factory=lambda: defaultdict(list))


def _uses(s: Surface, profiles: list) -> _Uses:
    uses = _Uses()
    overridden, attr_readers, created = uses.overridden, uses.attr_readers, uses.created
    for prof in profiles:
        package = prof.package if prof.downstream else "corpus"
        for sub in prof.subclasses.values():
            for name in sub.overrides:
                overridden[name].append(_User(package, sub.name))
            for name, use in sub.base_attributes.items():
                for where in sorted(set(use.reads) | set(use.writes)):
                    attr_readers[name].append(_User(package, sub.name, where))
            for name, use in sub.base_members.items():
                if s.members.get(name) is not None and s.members[name].visibility == PROTECTED \
                        and s.members[name].kind not in (CLASSMETHOD, STATICMETHOD):
                    for where in sorted(set(use.reads) | set(use.calls)):
                        attr_readers[name].append(_User(package, sub.name, where))
            for name in sorted(sub.created_names()):
                if name not in sub.overrides:
                    created[name].append(_User(package, sub.name))
    return uses


def contract(base: Baseline) -> str:
    """The contract as markdown: deterministic for the same baseline."""
    s = base.surface
    profiles = [p for _, p in base.profiles()]
    uses = _uses(s, profiles)
    out = _header(base, profiles)
    out += _hooks(s, _observed_dispatches(base), uses)
    out += _protected(s, uses)
    out += _constructor(s, profiles)
    out += _class_hooks(s, profiles)
    out += _names(s, uses)
    return "\n".join(out) + "\n"


def _header(base: Baseline, profiles: list) -> list[str]:
    s = base.surface
    version = s.generator.get("dagster", "?")
    downstream = sorted(f"{p.package} {p.version}" for p in profiles if p.downstream)
    out = [
        f"# The subclass contract of `{s.cls.qualname}` (dagster {version})",
        "",
        f"Generated by `compat contract` from a baseline of `{s.cls.path}` ({len(s.members)} members, "
        f"{len(s.instance_attributes)} instance attributes, {len(base.trace_files())} recorded behaviour cells; "
        f"real subclasses profiled: {', '.join(downstream) or 'none'}). Regenerate it instead of editing it; "
        "the diff of two generated contracts is the change of contract.",
        "",
        "MRO: " + " -> ".join(f"`{_short(c)}`" for c in s.cls.mro),
        "",
    ]

    return out


def _hooks(s: Surface, observed: dict, uses: _Uses) -> list[str]:
    """1. hooks the base dispatches to"""
    callers: dict[str, set[str]] = defaultdict(set)
    for name, m in s.members.items():
        for ref in m.self_refs:
            if ref != name:
                callers[ref].add(name)
    overridden = uses.overridden
    hooks = [n for n in _overridable(s) if callers.get(n) or observed.get(n)]
    out = [
        "## 1. Members the base dispatches to (overriding them changes what base methods do)",
        "",
        "A subclass may override these; each is reached from the base methods listed (statically: the "
        "method's body, or a helper object it delegates to, uses `self.<member>`; observed: the behaviour "
        "scenarios recorded the dispatch from that method of that class). A refactor must keep these "
        "dispatches, or overrides are silently skipped.",
        "",
        "| member | kind | defined in | dispatched from (static) | observed dispatches (method in class) | overridden by |",
        "|---|---|---|---|---|---|",
    ]
    for n in hooks:
        m = s.members[n]
        seen = sorted(observed.get(n, ()))
        out.append(f"| `{n}` | {m.kind} | {_short(m.defined_in)} | {_code(sorted(callers.get(n, ())))} | "
                   f"{', '.join(f'`{c}` ({k})' for c, k in seen) or '-'} | "
                   f"{', '.join(sorted({str(u) for u in overridden.get(n, [])})) or '-'} |")
    quiet = [n for n in _overridable(s) if n not in hooks and s.members[n].kind != CLASS_ATTRIBUTE]
    out += ["", f"Members no base method dispatches to ({len(quiet)}; overriding one only changes what outside "
                f"callers get): {_code(quiet)}", ""]
    dead = [n for n in quiet if n not in _LIFECYCLE_DUNDERS and overridden.get(n)]
    if dead:
        out += ["Of those, profiled subclasses override (an override the base may once have reached; check it is "
                "still meant to run only for outside callers):", ""]
        out += [f"- `{n}`: {', '.join(sorted({str(u) for u in overridden[n]}))}" for n in dead]
        out.append("")

    return out


def _protected(s: Surface, uses: _Uses) -> list[str]:
    """2. protected state real subclasses read"""
    attr_readers = uses.attr_readers
    out = [
        "## 2. Protected attributes and members subclasses use, and who assigns them",
        "",
        "Subclasses read (or write) these protected names of the base; the base must keep them, with the "
        "same meaning, assigned where it assigns them now.",
        "",
        "| name | what it is in the base | base assigns it in | set while `__init__` runs | used by |",
        "|---|---|---|---|---|",
    ]
    for n in sorted(attr_readers):
        attr = s.instance_attributes.get(n)
        member = s.members.get(n)
        if attr is not None:
            what, where, init = "instance attribute", _code(attr.assigned_in), "yes" if attr.in_init else "no"
        elif member is not None:
            what, where, init = f"{member.kind} of {_short(member.defined_in)}", "-", "-"
        else:
            what, where, init = "not in the base", "-", "-"
        users = sorted({str(u) for u in attr_readers[n]})
        out.append(f"| `{n}` | {what} | {where} | {init} | {', '.join(users)} |")
    out.append("")

    return out


def _constructor(s: Surface, profiles: list) -> list[str]:
    """3. the constructor"""
    init = s.members.get("__init__")
    out = ["## 3. Constructor forwarding", ""]
    if init is not None and init.signature is not None:
        params = [p for p in init.signature.parameters if p.name != "self"]
        named = [p.name for p in params if p.kind in (POSITIONAL_OR_KEYWORD, KEYWORD_ONLY)]
        var_kw = next((p.name for p in params if p.kind == VAR_KEYWORD), None)
        var_pos = next((p.name for p in params if p.kind == VAR_POSITIONAL), None)
        required = [p.name for p in params if p.required]
        out += [
            f"The base `__init__` (defined in `{_short(init.defined_in)}`):",
            "",
            "```python",
            init.signature.render("def __init__", multiline=True),
            "```",
            "",
            f"- Keywords the instance factory passes (`from_ref` calls the configured `instance_class` with one "
            f"keyword per parameter, plus the keys of the class's `config_schema()` read from dagster.yaml): "
            f"{_code(named)}; required: {_code(required)}. A subclass `__init__` must accept every one of them, "
            "by name or through `**kwargs`, and forward them to `super().__init__`.",
            f"- The base accepts `**{var_kw}`: unknown keywords reach it without error." if var_kw else
            "- The base accepts no `**kwargs`: every keyword a subclass forwards must be one of its parameters.",
            f"- The base accepts `*{var_pos}`." if var_pos else "- The base takes no `*args`.",
            f"- Instance attributes `__init__` assigns: {_code(sorted(n for n, a in s.instance_attributes.items() if a.in_init))}.",
            f"- Members `__init__` reaches through `self` before it returns, so before a subclass's own state "
            f"(assigned after `super().__init__`) exists: {_code(_reached_from_init(s))}. An override of one of "
            "them must not read subclass state.",
            "",
        ]
    ctors = []
    for prof in profiles:
        package = prof.package if prof.downstream else "corpus"
        for sub in sorted(prof.subclasses.values(), key=lambda x: x.name):
            c = sub.constructor
            if not c.defined:
                continue
            forwards = " and ".join(x for x, on in (("`*args`", c.forwards_args), ("`**kwargs`", c.forwards_kwargs)) if on)
            ctors.append(f"| {package} | `{sub.name}` | {'yes' if c.calls_super_init else 'no'} | {forwards or 'nothing'} | "
                         f"{_code(c.keyword_only)} | {_code(c.required_keyword_only)} | {_code(c.passes_keywords)} | "
                         f"{_code(c.config_keys)} |")
    if ctors:
        out += ["Subclasses that define `__init__`:", "",
                "| package | class | calls `super().__init__` | forwards | adds keyword-only | of which required | "
                "passes itself | config keys (dagster.yaml) |",
                "|---|---|---|---|---|---|---|---|", *ctors, ""]

    return out


def _class_hooks(s: Surface, profiles: list) -> list[str]:
    """4. class-level hooks"""
    out = ["## 4. Class-level hooks", "",
            "dagster calls these on the configured instance class itself, not only through an instance.", "",
            "| hook | how dagster calls it | in the base | defined by |", "|---|---|---|---|"]
    for name, how in sorted(CLASS_HOOKS.items()):
        m = s.members.get(name)
        in_base = (f"{m.kind}: `{_esc(m.signature.render(name))}`" if m is not None and m.signature
                   else f"{m.kind}" if m is not None else "not defined (looked up on the class)")
        users = sorted({f"{p.package if p.downstream else 'corpus'} {sub.name}"
                        for p in profiles for sub in p.subclasses.values() if name in sub.hooks})
        out.append(f"| `{name}` | {_esc(how)} | {in_base} | {', '.join(users) or '-'} |")
    out.append("")

    return out


def _names(s: Surface, uses: _Uses) -> list[str]:
    """5. names the base must never take"""
    created = uses.created
    out = ["## 5. Names the base must never take", "",
            "Subclasses define these themselves (members, or `self.<name>` attributes). If the base starts "
            "defining or assigning one, the subclass's definition silently replaces the base's (or the base "
            "overwrites the subclass's state).", "",
            "| name | defined by | the base today |", "|---|---|---|"]
    for n in sorted(created):
        attr, member = s.instance_attributes.get(n), s.members.get(n)
        today = (f"**clash**: the base assigns it in {_code(attr.assigned_in)}" if attr is not None else
                 f"**clash**: the base defines it ({member.kind} of {_short(member.defined_in)})" if member is not None
                 else "free")
        out.append(f"| `{n}` | {', '.join(sorted({str(u) for u in created[n]}))} | {today} |")
    return out


def diff(a: str, b: str, label_a: str, label_b: str) -> str:
    """A unified diff of two contracts ('' when they are the same)."""
    return "".join(difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                        fromfile=label_a, tofile=label_b, n=1))

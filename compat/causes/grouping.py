"""The grouping: every finding, of any layer, attached to exactly one cause.

Which change a finding shows is its rule's cause kind (:mod:`compat.cause_kinds`); here the
findings of every layer are keyed by it in two passes (the kinds that join a cause the others
found come second), a corpus subclass's downstream divergences are filed under the dispatch it
lost, causes made by one edit are merged, and each cause gets its edited members, its code side
by side, who it affects, its reproduction and its severity under the policy
(:mod:`compat.causes.policy`).
"""

from __future__ import annotations

from typing import Iterable

from compat import cause_kinds
from compat.cause_kinds import CELL_CHANGE, kind_of, sub_member
from compat.cause_kinds import bare as _bare  # `bare` is a parameter name below
from compat.catalogue import RULES
from compat.causes.cause import Affected, Cause, _names
from compat.causes.policy import _policy, _weaker, worst
from compat.corpus import CORPUS
from compat.model.findings import SEVERITY_RANK, Finding, sort_findings
from compat.model.profile import CORPUS_PACKAGE
from compat.model.surface import Surface
from compat.rules.base import BODY_KINDS, DiffContext, bound_params, short


def _step_title(kind: str, step: str, findings: list[Finding]) -> str | None:
    """A behaviour cause's title in a reviewer's words: the method, the argument case the
    scenario calls it with (`add_dynamic_partitions:None_name`), and the old and new outcome
    (`raised CheckError, now raises ValueError`) instead of the scenario's step id."""
    if kind not in ("result", "exception", "warning"):
        return None
    method, _, case = step.partition(":")
    if not method.isidentifier():
        return None
    called = sorted({(f.details or {}).get("called") for f in findings} - {None})
    if len(called) == 1:  # the step's label is not the member it calls
        call = f"`{called[0]}` (step `{step}`)"
    else:
        call = f"`{method}` with `{case}`" if case else f"step `{step}`"
    if kind == "result":
        return f"{call} returns a different value"
    if kind == "warning":
        return f"{call} emits other warnings"
    pairs = sorted({(d.get("old_type"), d.get("new_type")) for f in findings if f.source == "behaviour"
                    for d in [f.details or {}] if "old_type" in d}, key=str)
    if len(pairs) != 1:
        return f"{call} raises differently"
    (old, new), = pairs
    if old is not None and old == new:
        return f"{call} raises `{old}` with another message"
    before = f"raised `{old}`" if old is not None else "returned a value"
    after = f"now raises `{new}`" if new is not None else "now returns a value"
    return f"{call} {before}, {after}"


def _also(causes: list[Cause]) -> None:
    """A behaviour cell whose dispatches lose (or gain) several members is filed under the first
    divergence; the causes of the other members list it as ``also``, so that each of them is seen
    by the behaviour layer where it is (``should_store_event`` lost behind ``create_run``)."""
    by_member: dict[tuple[str, str], list[Cause]] = {}
    for c in causes:
        for kind, subject in [(c.kind, c.subject)] + _hooks_of(c):
            by_member.setdefault((kind, subject), []).append(c)
    for c in causes:
        for f in c.findings:
            d = f.details or {}
            if f.source != "behaviour" or d.get("change") is None:
                continue
            for kind, names in (("dispatch-lost", d.get("members_missing") or []),
                                ("dispatch-gained", d.get("members_added") or [])):
                for name in names:
                    for other in by_member.get((kind, name), []):
                        # a cell that shows `other` as a divergence of its own is its finding already
                        if other is not c and f not in other.also and \
                                not any(g.source == "behaviour" and g.member == f.member for g in other.findings):
                            other.also.append(f)


def _hooks_of(c: Cause) -> list[tuple[str, str]]:
    """The dispatch causes merged into ``c`` (a `dispatch-changed` cause names its parts' hooks)."""
    if c.kind != "dispatch-changed":
        return []
    return sorted({(CELL_CHANGE[d["change"]], d.get("member_name") or "?") for f in c.findings
                   for d in [f.details or {}] if f.source == "behaviour" and d.get("change") in CELL_CHANGE})


PLAIN = "spy"  # the subclass that overrides nothing: what the base alone does in each scenario
CONSEQUENCES = ("result", "state", "exception", "warning")


def _consequences(keyed: list[tuple[tuple[str, str], Finding]]) -> list[tuple[tuple[str, str], Finding]]:
    """A corpus subclass whose override is no longer reached sees different results and state
    downstream of it (its `create_run` adds a tag; skipped, the runs lack the tag). When the same
    scenario on the same storage run by the plain subclass shows no such divergence, the base
    alone did not change there: the divergence is the lost dispatch's consequence and is filed
    under it, not reported as a change of its own."""
    def where(f: Finding) -> tuple[str, str, str] | None:
        cell = (f.details or {}).get("cell") if f.source == "behaviour" else None
        return (cell["subclass"], cell["scenario"], cell["storage"]) if isinstance(cell, dict) and \
            {"subclass", "scenario", "storage"} <= set(cell) else None

    lost: dict[tuple[str, str, str], tuple[str, str]] = {}
    plain: set[tuple[str, str, tuple[str, str]]] = set()
    for k, f in keyed:
        at = where(f)
        if at is None:
            continue
        if k[0] == "dispatch-lost" and at[0] != PLAIN:
            lost.setdefault(at, k)
        if at[0] == PLAIN:
            plain.add((at[1], at[2], k))
    out = []
    for k, f in keyed:
        at = where(f)
        if at is not None and k[0] in CONSEQUENCES and at in lost and (at[1], at[2], k) not in plain:
            k = lost[at]
        out.append((k, f))
    return out


def _affected(details: dict, cls: str) -> Affected:
    """The downstream class a profile or replay finding names (a finding read from an older
    file names its package only as shown, `pkg 1.0`: kept as it is)."""
    if "package_name" in details:
        return Affected(details["package_name"], cls, version=details.get("package_version") or "")
    return Affected(str(details.get("package")), cls)


def _corpus_class(subclass: str) -> str | None:
    """`spy:create-run-tags` -> `CreateRunTagsInstance`; None for the plain spy and the base."""
    name = subclass.split(":", 1)[1] if subclass.startswith("spy:") else subclass
    path = CORPUS.get(name)
    return path.rsplit(":", 1)[-1] if path and name != "base" else None


class _Builder:
    def __init__(self, findings: list[Finding], old: Surface | None, new: Surface | None, profiles):
        self.findings = sort_findings(findings)
        self.old, self.new = old, new
        self.ctx = DiffContext(old, new) if old is not None and new is not None else None
        self.profiles = list(profiles)
        self.renames = self._renames()
        self.hints: dict[tuple[str, str], set[str]] = {}  # dispatch cause -> base members edited for it

    # ---- which cause a finding belongs to
    def key(self, f: Finding, known: set[tuple[str, str]]) -> tuple[str, str]:
        """(kind, subject) of the cause of `f`, as its rule's cause kind reads it
        (:mod:`compat.cause_kinds`)."""
        return cause_kinds.key(self, f, known)

    def _renames(self) -> dict[str, str]:
        """Removed member -> the added member that replaces it: same kind and call signature and a
        similar name (the same name without its underscore first), matched one to one."""
        if self.ctx is None:
            return {}

        def shape(m) -> tuple:
            return (m.kind, tuple((p.name, p.kind, p.default) for p in bound_params(m)),
                    m.signature.returns_norm if m.signature else None)

        out: dict[str, str] = {}
        taken: set[str] = set()
        for exact in (True, False):
            for old in self.ctx.removed:
                if old.name in out:
                    continue
                fits = [m.name for m in self.ctx.added if m.name not in taken and shape(m) == shape(old)
                        and (_bare(m.name) == _bare(old.name) if exact else _similar(old.name, m.name))]
                if len(fits) == 1:
                    out[old.name] = fits[0]
                    taken.add(fits[0])
        return out

    # ---- the dispatch graph
    def lost_at(self, hook: str) -> set[str]:
        """Base members that reached `hook` through self on the old side and no longer do."""
        if self.ctx is None:
            return set()
        cache = self.__dict__.setdefault("_lost_cache", {})
        if hook not in cache:
            out = set()
            for name, old, new in self.ctx.common:
                if old.kind in BODY_KINDS and new.kind in BODY_KINDS and name != hook:
                    if hook in self.ctx.reach(self.old, name) and hook not in self.ctx.reach(self.new, name):
                        out.add(name)
            cache[hook] = out
        return cache[hook]

    def roots(self, hook: str) -> tuple[list[str], list[str]]:
        """(edited, reached_from): the members that called `hook` themselves and no longer reach
        it, and the members whose loss comes only through them (or through another lost hook)."""
        lost = self.lost_at(hook)
        edited = sorted(n for n in lost if hook in _direct(self.old.members[n]))
        if not edited:  # reached through something no old body names directly: the members
            # whose own references changed, i.e. that call no other member that lost it
            edited = sorted(n for n in lost if not (_direct(self.new.members[n]) & lost))
        return edited, sorted(lost - set(edited))

    # ---- assembling
    def causes(self) -> list[Cause]:
        known: set[tuple[str, str]] = set()
        # pass 1: findings whose cause does not depend on others; pass 2: the rest
        deferred = ("dispatch-obscured", "added", "fuzz")  # kinds that join a cause the others found
        keyed: list[tuple[tuple[str, str], Finding]] = []
        later = []
        for f in self.findings:
            if getattr(RULES.get(f.rule), "cause", "") in deferred:
                later.append(f)
                continue
            k = self.key(f, known)
            known.add(k)
            keyed.append((k, f))
            if k[0].startswith("dispatch"):
                hints = self.hints.setdefault(k, set())
                hints.update(self._edited_from_findings(k[0], k[1], [f]))
                if k[0] == "dispatch-lost" and self.ctx is not None:
                    hints.update(self.roots(k[1])[0])
        for f in later:
            k = self.key(f, known)
            known.add(k)
            keyed.append((k, f))
        keyed = _consequences(keyed)
        groups: dict[tuple[str, str], list[Finding]] = {}
        for k, f in keyed:
            groups.setdefault(k, []).append(f)
        causes = self._merge([self.cause(kind, subject, fs) for (kind, subject), fs in groups.items()])
        _also(causes)
        return sorted(causes, key=cause_order)

    def _merge(self, causes: list[Cause]) -> list[Cause]:
        """One edit, one cause: dispatch changes made in the same edited members, and members
        changed the same way (the same new required parameter on two methods), are merged."""
        parent = list(range(len(causes)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        owner: dict[tuple[str, str], int] = {}
        for i, c in enumerate(causes):
            if c.kind.startswith("dispatch") and c.edited:
                # the same edited members: one edit (a chain of separately edited methods is not)
                marks = [("edited", ",".join(c.edited))]
            elif c.kind == "member":
                marks = [("shape", _fingerprint(c))]
            else:
                marks = []
            for mark in marks:
                j = owner.setdefault(mark, i)
                parent[find(i)] = find(j)
        groups: dict[int, list[Cause]] = {}
        for i, c in enumerate(causes):
            groups.setdefault(find(i), []).append(c)
        out = []
        for parts in groups.values():
            if len(parts) == 1:
                out.append(parts[0])
                continue
            parts.sort(key=lambda c: (SEVERITY_RANK[c.severity], c.id))
            findings = [f for c in parts for f in c.findings]
            if parts[0].kind.startswith("dispatch"):
                edited = sorted({e for c in parts for e in c.edited})
                merged = self.cause("dispatch-changed", edited[0], findings, edited=edited,
                                    what="; ".join(_dispatch_what(c) for c in parts))
            else:
                names = sorted(c.subject for c in parts)
                merged = self.cause("member", "+".join(names), findings)
            out.append(merged)
        return out

    def cause(self, kind: str, subject: str, findings: list[Finding], *, edited: list[str] | None = None,
              what: str | None = None) -> Cause:
        findings = sort_findings(findings)
        reached: list[str] = []
        if edited is None:
            edited = []
            if kind == "dispatch-lost" and self.ctx is not None:
                edited, reached = self.roots(subject)
        else:
            hooks = sorted({k for f in findings for k in [self.key(f, set())] if k[0] == "dispatch-lost"})
            for _, hook in hooks:
                reached += [r for r in self.roots(hook)[1] if r not in reached] if self.ctx is not None else []
        if not edited:
            edited = self._edited_from_findings(kind, subject, findings)
        # the edited member most of the evidence points at comes first (its code is shown)
        weight = {e: 0 for e in edited}
        for f in findings:
            at = (f.details or {}).get("caller") if f.source == "behaviour" else self._at(f)
            if at in weight:
                weight[at] += 1
        edited = sorted(edited, key=lambda e: (-weight[e], e))
        severity = self._severity(kind, findings, edited, reached)
        display = subject
        if kind == "name-clash":  # the name as the code spells it (`_exit_stack`), not its bare key
            spelled = sorted({self._at(f).removeprefix("self.") for f in findings if f.source == "profile"}) + \
                sorted({self._at(f).removeprefix("self.") for f in findings if f.source == "surface"})
            display = next((n for n in spelled if _bare(n) == subject), subject)
        members = sorted({self._at(f) for f in findings if f.source in ("surface", "profile")})
        if kind in ("exports", "incidental-exports"):
            members = sorted(m.rsplit(".", 1)[-1] for m in members)
        cls = self.old.cls.qualname if self.old is not None else "DagsterInstance"
        obj = "instance" if cls == "DagsterInstance" else f"`{cls}` object"
        fmt = {"s": display, "edited": _names(edited) or "the base", "obj": obj, "cls": cls, "callers": _names(reached),
               "members": _names(members, 4), "n": len(members),
               "n_members": f"{len(members)} member{'s' if len(members) != 1 else ''}", "renamed": self.renames.get(subject, "?"), "what": what or _what(findings)}
        cause = Cause(
            id=f"{kind}:{subject}",
            kind=kind,
            subject=subject,
            severity=severity,
            title=_step_title(kind, subject, findings) or kind_of(kind).render_title(fmt),
            edited=edited,
            reached_from=reached,
            fix=kind_of(kind).render_fix(fmt, dagster_instance=cls == "DagsterInstance"),
            findings=findings,
        )
        self._code(cause)
        self._in_new_code(cause)
        self._affects(cause)
        _policy(cause)
        cause.reproduction = self._reproduction(cause)
        return cause

    def _edited_from_findings(self, kind: str, subject: str, findings: list[Finding]) -> list[str]:
        out: set[str] = set()
        for f in findings:
            d = f.details or {}
            if f.source == "surface" and kind.startswith("dispatch"):
                out.add(f.member)
            elif f.source == "profile" and d.get("caller"):
                out.add(d["caller"])
            elif f.source == "behaviour" and d.get("caller") and self._is_member(d["caller"]):
                out.add(d["caller"])
        return sorted(out)

    def _is_member(self, name: str) -> bool:
        return any(s is not None and name in s.members for s in (self.old, self.new)) or (
            self.old is None and self.new is None)

    def _severity(self, kind: str, findings: list[Finding], edited: list[str], reached: list[str]) -> str:
        """The strongest evidence, where static findings at callers that merely reach the edited
        member count no more than the findings at the edited member itself."""
        at_root = [f.severity for f in findings if f.source in ("surface", "profile") and self._at(f) in edited]
        cap = worst(at_root) if at_root else None
        out = []
        for f in findings:
            sev = f.severity
            if kind == "dispatch-lost" and cap is not None and f.source in ("surface", "profile") \
                    and self._at(f) in reached:
                sev = _weaker(sev, cap)
            out.append(sev)
        return worst(out)

    def effective_severity(self, cause: Cause, f: Finding) -> str:
        """What `f` counts for in its cause (a transitive caller's static finding counts no more
        than the edited member's)."""
        if cause.why:  # the policy (docs/severity.md) judged this change: its findings count for that
            return cause.severity
        if cause.kind != "dispatch-lost" or f.source not in ("surface", "profile") or self._at(f) not in cause.reached_from:
            return f.severity
        at_root = [g.severity for g in cause.findings if g.source in ("surface", "profile") and self._at(g) in cause.edited]
        return _weaker(f.severity, worst(at_root)) if at_root else f.severity

    @staticmethod
    def _at(f: Finding) -> str:
        """The base member a static finding is about (a profile finding: the base caller)."""
        if f.source == "profile":
            return (f.details or {}).get("caller") or sub_member(f)
        return f.member

    def _in_new_code(self, c: Cause) -> None:
        """A cause points into the new code, where a reviewer can comment on the diff: a member
        that is gone (or a re-export that no longer resolves) points at its class as it is now."""
        if self.new is None or not self.new.cls.location:
            return
        here = {m.location for m in self.new.members.values()} | {self.new.cls.location}
        here |= {a.location for a in self.new.instance_attributes.values()}
        here |= {f.new_location for f in c.findings if f.new_location}
        if c.location not in here:
            c.location = self.new.cls.location

    def _code(self, c: Cause) -> None:
        """Old and new code side by side: the edited member's signature and its dispatches."""
        if self.old is None or self.new is None:
            first = c.findings[0]
            c.old, c.new = first.old, first.new
            c.location = first.new_location or first.old_location
            return
        if c.kind.startswith("dispatch") and c.edited:
            name = c.edited[0]
            o, n = self.old.members.get(name), self.new.members.get(name)
            if o is not None and n is not None:
                o_refs = sorted(set(o.self_refs) | set(o.self_calls))
                n_refs = sorted(set(n.self_refs) | set(n.self_calls))
                # one dispatch per line, so that a line diff shows exactly the edges that changed
                # (the signature is another cause's business: only the name heads the list)
                c.old = "\n".join([f"{name}(...) uses"] + [f"    self.{r}" for r in o_refs])
                c.new = "\n".join([f"{name}(...) uses"] + [f"    self.{r}" for r in n_refs]
                                   + [f"    via {d}" for d in n.delegates])
                c.location = n.location
                return
        merged = sorted({f.member for f in c.findings if f.source == "surface"}) if c.kind == "member" else []
        if len(merged) > 1 and all(m in self.old.members and m in self.new.members for m in merged):
            # members changed the same way: the code of each, in name order
            c.old = "\n\n".join(self.old.members[m].render(multiline=True) for m in merged)
            c.new = "\n\n".join(self.new.members[m].render(multiline=True) for m in merged)
            c.location = self.new.members[merged[0]].location
            return
        name = {"renamed": c.subject, "removed": c.subject, "member": c.subject, "name-clash": None}.get(c.kind)
        if c.kind == "renamed" and c.subject in self.renames:
            o, n = self.old.members.get(c.subject), self.new.members.get(self.renames[c.subject])
            if o is not None and n is not None:
                c.old, c.new, c.location = o.render(multiline=True), n.render(multiline=True), n.location
                return
        if name is not None:
            o, n = self.old.members.get(name), self.new.members.get(name)
            if o is not None or n is not None:
                c.old = o.render(multiline=True) if o is not None else None
                c.new = n.render(multiline=True) if n is not None else None
                c.location = n.location if n is not None else o.location
                return
        first = next((f for f in c.findings if f.source == "surface"), c.findings[0])
        c.old, c.new = first.old, first.new
        if c.kind == "removed":  # the removals of one visibility: each removed member's code
            gone = {f.member: f for f in c.findings if f.source == "surface"}
            c.old = "\n".join(gone[m].old for m in sorted(gone) if gone[m].old) or None
            c.new = "\n".join(gone[m].new for m in sorted(gone) if gone[m].new) or None
        c.location = first.new_location or first.old_location
        if c.location is None and c.kind in ("result", "exception", "warning"):
            m = self.new.members.get(c.subject.split(":", 1)[0])
            c.location = m.location if m is not None else None

    def _affects(self, c: Cause) -> None:
        corpus: set[str] = set()
        downstream: set[Affected] = set()
        for f in c.findings:
            d = f.details or {}
            if f.source == "profile":
                sub = short(d["subclass"])
                if d.get("package", "").startswith(CORPUS_PACKAGE):
                    corpus.add(sub)
                else:
                    downstream.add(_affected(d, sub))
            elif f.source == "behaviour" and d.get("package"):  # a downstream override replayed
                downstream.add(_affected(d, short(d.get("subclass") or "")))
            elif f.source == "fuzz":
                name = _corpus_class(d["subclass"])
                if name:
                    corpus.add(name)
        # who uses the changed names, from the profiles (a signature change is judged by the
        # profile checks themselves: an override that still fits is not affected)
        names = {self._at(f) for f in c.findings if f.source in ("surface", "profile")} | {c.subject}
        if c.kind == "renamed" and c.subject in self.renames:
            names.add(self.renames[c.subject])
        if c.kind.startswith("dispatch"):
            names = {k[1] for f in c.findings for k in [self.key(f, set())] if k[0] == "dispatch-lost"}
        if c.kind in ("dispatch-lost", "dispatch-changed", "removed", "renamed", "name-clash", "attribute"):
            for profile in self.profiles:
                for sub in profile.subclasses.values():
                    why = _uses(sub, names, bare=c.kind in ("name-clash", "attribute"))
                    if why:
                        if profile.package.startswith(CORPUS_PACKAGE):
                            corpus.add(sub.name)
                        else:
                            downstream.add(Affected(profile.package, sub.name, version=profile.version, why=why))
        # a profile finding and a profile use of the same class are one entry: keep the explained one
        by_class: dict[str, Affected] = {}
        for entry in sorted(downstream, key=str):
            if entry.head not in by_class or entry.why:
                by_class[entry.head] = entry
        c.corpus = sorted(corpus)
        c.downstream = sorted(by_class.values(), key=str)

    def _reproduction(self, c: Cause) -> str | None:
        fuzz = [f for f in c.findings if f.source == "fuzz" and (f.details or {}).get("snippet")]
        if fuzz:
            return min(fuzz, key=lambda f: (len(f.details["snippet"]), f.member)).details["snippet"]
        if c.kind == "dispatch-lost" and c.edited:
            return _probe_snippet(self.new.target if self.new is not None else "dagster:DagsterInstance", c.subject,
                                  c.edited[0], self.new.members.get(c.subject) if self.new is not None else None)
        if c.kind == "renamed" and c.subject in self.renames:
            module, _, cls = (self.new.target if self.new is not None else "dagster:DagsterInstance").partition(":")
            return (f"from {module} import {cls}\n\n\n# written against the old name: the base never calls this override\n"
                    f"# any more, and super() raises AttributeError\nclass Sub({cls}):\n"
                    f"    def {c.subject}(self, *args, **kwargs):\n        return super().{c.subject}(*args, **kwargs)")
        return None


def _probe_snippet(target: str, hook: str, edited: str, member) -> str:
    module, _, cls = target.partition(":")
    is_property = member is not None and member.kind in ("property", "cached_property")
    body = (f"    @property\n    def {hook}(self):\n        print('override of {hook} reached')\n"
            f"        return super().{hook}\n") if is_property else (
            f"    def {hook}(self, *args, **kwargs):\n        print('override of {hook} reached')\n"
            f"        return super().{hook}(*args, **kwargs)\n")
    return (f"from {module} import {cls}\n\n\nclass Probe({cls}):\n{body}\n"
            f"# Build a Probe instance (dagster.yaml `instance_class`, or the corpus helpers) and call\n"
            f"# `{edited}`: on the old dagster the line above prints, on the new one it does not.")


def _uses(sub, names: set[str], *, bare: bool) -> str:
    """Why a profiled subclass is affected by a change of `names` (empty: it is not)."""
    match = (lambda n: _bare(n) in {_bare(x) for x in names}) if bare else (lambda n: n in names)
    for n in sorted(sub.overrides):
        if match(n):
            return f"overrides {n}"
    for n in sorted(sub.new_members):
        if bare and match(n):
            return f"defines {n}"
    for n in sorted(sub.new_attributes):
        if bare and match(n):
            return f"assigns self.{n}"
    for n in sorted(sub.base_members):
        if match(n):
            return f"uses {n}"
    for n in sorted(sub.base_attributes):
        if match(n):
            return f"reads self.{n}"
    return ""


def _direct(member) -> set[str]:
    return set(member.self_refs) | set(member.self_calls)


def _what(findings: list[Finding]) -> str:
    """What changed about a member, from the rules that fired (most severe first)."""
    seen: list[str] = []
    for f in findings:
        d = f.details or {}
        label = f.rule.replace("-", " ")
        param = d.get("parameter") or d.get("name")
        text = f"{label} `{param}`" if param else label
        if text not in seen:
            seen.append(text)
    return ", ".join(seen[:4]) + (f" and {len(seen) - 4} more" if len(seen) > 4 else "")


def _fingerprint(c: Cause) -> str:
    """What a member cause says with the member's own name taken out."""
    texts = []
    for f in c.findings:
        text = f.message
        # the member a finding names, also without its first qualifier (`Subclass.`, `storage.`):
        # messages are text, and this masks names in them, it reads nothing back
        for name in {c.subject, f.member, sub_member(f), f.member.partition(".")[2] or f.member}:
            text = text.replace(f"'{name}'", "'<m>'").replace(f"`{name}`", "`<m>`")
        texts.append(f"{f.rule}|{f.severity}|{text}")
    return "\n".join(sorted(texts))


def _dispatch_what(c: Cause) -> str:
    verb = {"dispatch-lost": "no longer reaches", "dispatch-gained": "now calls", "dispatch-arguments":
            "passes other arguments to", "dispatch-reordered": "reorders calls around", "dispatch-obscured":
            "hands self to code outside the class instead of reaching"}.get(c.kind, c.kind)
    target = c.subject if c.kind != "dispatch-obscured" else "its hooks"
    return f"{verb} `{target}`" if c.kind != "dispatch-obscured" else f"{verb} its hooks"


def _similar(a: str, b: str) -> bool:
    import difflib

    x, y = a.strip("_"), b.strip("_")
    return x == y or difflib.SequenceMatcher(None, x, y).ratio() >= 0.6


def _weight(c: Cause) -> int:
    return len(c.findings) + 1000 * len(c.downstream)


def cause_order(c: Cause) -> tuple:
    """Most severe first, then those that affect real downstream subclasses, then by weight."""
    return (SEVERITY_RANK[c.severity], not c.downstream, -_weight(c), c.id)


def build_causes(findings: Iterable[Finding], old: Surface | None = None, new: Surface | None = None,
                 profiles=()) -> list[Cause]:
    """Every finding attached to exactly one cause, most severe first (then those that affect
    real downstream subclasses, then by weight of evidence)."""
    return _Builder(list(findings), old, new, list(profiles)).causes()


def effective_severities(findings: Iterable[Finding], old: Surface | None, new: Surface | None,
                         profiles=()) -> dict[int, str]:
    """id(finding) -> the severity it counts for within its cause (see Cause severity)."""
    b = _Builder(list(findings), old, new, list(profiles))
    out = {}
    for c in b.causes():
        for f in c.findings:
            out[id(f)] = b.effective_severity(c, f)
    return out


def policy_severity(f: Finding, old: Surface | None = None, new: Surface | None = None) -> str:
    """What one finding counts for by itself, the severity policy applied: the gate judges each
    behaviour cell as it runs, before the other cells' findings are known, and a cell that shows
    only a gained dispatch or a crash that became a result must not fail its unit."""
    b = _Builder([f], old, new, [])
    [c] = b.causes()
    return b.effective_severity(c, f)

"""Causes: the changes in the new code behind the findings, one cause per change someone can feel.

Every layer sees the same change its own way: when `create_run_for_job` stops dispatching
through `self.create_run`, the hook rules flag the method, the profile checks flag each subclass
overriding `create_run`, hundreds of behaviour cells show the dispatch missing, and stored fuzz
programs return other tags. A reviewer wants one thing: *overrides of `create_run` are ignored,
here is the method that changed, here is who breaks*. :func:`build_causes` attaches every
finding to exactly one :class:`Cause`; the reports lead with causes and show findings as their
evidence.

A cause names the new code that introduced it first (for a lost dispatch: the method whose own
body changed, not the untouched callers that reach it; those are listed under it), who breaks
(base callers, corpus subclasses, real downstream subclasses from the profiles), the evidence
per layer, the smallest reproduction there is, and a fix hint for the person who made the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from compat import cause_kinds
from compat.cause_kinds import CELL_CHANGE, kind_of, sub_member
from compat.cause_kinds import bare as _bare  # `bare` is a parameter name below
from compat.corpus import CORPUS
from compat.model.findings import (
    BREAKING, INFO, SEVERITIES, SEVERITY_RANK, WARNING, Finding, at_or_above, sort_findings, typing_only,
)
from compat.model.surface import Surface
from compat.catalogue import RULES
from compat.rules.base import BODY_KINDS, DiffContext, bound_params, short
from compat.rules.parameters import parameter_renamed
from compat.model.profile import CORPUS_PACKAGE

LAYERS = ("surface", "profile", "behaviour", "fuzz", "perf", "baseline", "griffe")

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





@dataclass(frozen=True)
class Affected:
    """A real downstream subclass a cause affects: `dagster-cloud 1.11.4: DagsterCloudAgentInstance
    (overrides get_run_by_id)` as reports show it."""

    package: str  # the distribution's name
    cls: str
    version: str = ""
    why: str = ""

    @property
    def head(self) -> str:
        return f"{self.package} {self.version}: {self.cls}" if self.version else f"{self.package}: {self.cls}"

    def __str__(self) -> str:
        return f"{self.head} ({self.why})" if self.why else self.head


@dataclass
class Cause:
    """One change in the new code, with every finding (of any layer) that shows it."""

    id: str  # stable: "<kind>:<subject>"
    kind: str
    subject: str
    severity: str
    title: str
    location: str | None = None  # new code location (where its class now is when the code is gone)
    edited: list[str] = field(default_factory=list)  # base members whose own code carries the change
    reached_from: list[str] = field(default_factory=list)  # base members that reach it (transitive)
    old: str | None = None  # old code
    new: str | None = None  # new code
    corpus: list[str] = field(default_factory=list)  # corpus subclasses that feel it
    downstream: list[Affected] = field(default_factory=list)  # real subclasses it affects
    reproduction: str | None = None
    fix: str = ""
    findings: list[Finding] = field(default_factory=list)
    # behaviour cells that show this cause too but are counted under another one: a cell is
    # filed under its first divergence, and a later member missing from its dispatches is this
    also: list[Finding] = field(default_factory=list)
    # why the severity is what it is, when the policy (docs/severity.md) moved it from the
    # strongest finding's
    why: str | None = None
    # the program that proves a breaking cause on both sides (compat.witness.Witness.to_dict),
    # None when none was run; `unproven` says why a cause that could break is no more than a warning
    witness: dict[str, Any] | None = None
    unproven: str | None = None

    @property
    def typing_only(self) -> bool:
        """A breaking cause whose every breaking finding breaks only under a type checker (or
        that its witness proves under a type checker only)."""
        if self.witness is not None and self.severity == BREAKING:
            return self.witness["proves"] == "typing"
        breaking = [f for f in self.findings if f.severity == BREAKING]
        return self.severity == BREAKING and bool(breaking) and all(typing_only(f) for f in breaking)

    @property
    def packages(self) -> list[str]:
        """Real downstream packages affected (from the profiles), without versions."""
        return sorted({d.package for d in self.downstream})

    def evidence(self) -> dict[str, dict[str, Any]]:
        """Per layer: how many findings, of which rules, and one representative (the first)."""
        out: dict[str, dict[str, Any]] = {}
        for f in sort_findings(self.findings):
            layer = out.setdefault(f.source, {"count": 0, "rules": {}, "example": f})
            layer["count"] += 1
            layer["rules"][f.rule] = layer["rules"].get(f.rule, 0) + 1
        return {k: out[k] for k in sorted(out, key=lambda s: LAYERS.index(s) if s in LAYERS else 99)}

    def evidence_line(self) -> str:
        """`surface 2 (hook-no-longer-called), profile 3, behaviour 312 cells, fuzz 19 programs`."""
        unit = {"behaviour": "cell", "fuzz": "program"}
        parts = []
        for layer, ev in self.evidence().items():
            n = ev["count"]
            word = unit.get(layer, "finding")
            rules = ", ".join(f"{r}" + (f" x{c}" if c > 1 else "") for r, c in sorted(ev["rules"].items()))
            where = ""
            if layer in ("behaviour", "fuzz"):
                subs = {((f.details or {}).get("cell") or {}).get("subclass") if layer == "behaviour"
                        else f.member.split("/", 1)[0] for f in self.findings if f.source == layer}
                where = f" on {len(subs)} subclass{'es' if len(subs) != 1 else ''}"
            parts.append(f"{layer} {n} {word}{'s' if n != 1 else ''}{where} ({rules})")
        if self.also:
            n = len(self.also)
            parts.append(f"also behaviour {n} cell{'s' if n != 1 else ''} filed under another cause "
                         f"(their first divergence is another member's)")
        return "; ".join(parts)

    def layers(self) -> dict[str, int]:
        """Per layer, how many findings show this cause, the cells filed under another one included."""
        out = {layer: ev["count"] for layer, ev in self.evidence().items()}
        if self.also:
            out["behaviour"] = out.get("behaviour", 0) + len(self.also)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject,
            "severity": self.severity,
            # breaking causes: whether a run breaks, or only type-checked code
            "breakage": ("typing" if self.typing_only else "runtime") if self.severity == BREAKING else None,
            "title": self.title,
            "location": self.location,
            "edited": self.edited,
            "reached_from": self.reached_from,
            "old": self.old,
            "new": self.new,
            "affects": {"corpus": self.corpus, "downstream": [str(d) for d in self.downstream], "callers": self.reached_from},
            "evidence": {layer: {"count": ev["count"], "rules": dict(sorted(ev["rules"].items())),
                                 "example": ev["example"].to_dict()} for layer, ev in self.evidence().items()},
            "why": self.why,
            "witness": self.witness,
            "unproven": self.unproven,
            "reproduction": self.reproduction,
            "fix": self.fix,
            "findings": [_finding_ref(f) for f in sort_findings(self.findings)],
            "also": [_finding_ref(f) for f in sort_findings(self.also)],
        }


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


# a behaviour cell's first dispatch divergence -> the kind of cause it shows
def _finding_ref(f: Finding) -> dict[str, str]:
    return {"rule": f.rule, "member": f.member, "severity": f.severity, "source": f.source}


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


def worst(severities: Iterable[str], default: str = INFO) -> str:
    ranked = sorted(severities, key=lambda s: SEVERITY_RANK[s])
    return ranked[0] if ranked else default


def _weaker(a: str, b: str) -> str:
    return a if SEVERITY_RANK[a] >= SEVERITY_RANK[b] else b


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
                sub = short(d.get("subclass") or f.member.split(".", 1)[0])
                if d.get("package", "").startswith(CORPUS_PACKAGE):
                    corpus.add(sub)
                else:
                    downstream.add(_affected(d, sub))
            elif f.source == "behaviour" and d.get("package"):  # a downstream override replayed
                downstream.add(_affected(d, short(d.get("subclass") or "")))
            elif f.source == "fuzz":
                name = _corpus_class(f.member.split("/", 1)[0])
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


def _policy(c: Cause) -> None:
    """Severity by what the evidence shows, as docs/severity.md writes it down: the findings'
    own severities say how bad a change of that kind can be; these rules say what this change
    is. Witnesses (compat.witness) then decide whether what could break does."""

    def move(severity: str, why: str) -> None:
        c.severity, c.why = severity, why

    cells = [f.details or {} for f in c.findings if f.source == "behaviour"]
    lost = [d for d in cells if d.get("change") == "missing"]
    static = [f for f in c.findings if f.source != "behaviour"]
    if c.kind == "dispatch-lost" and lost and not static and lost == [d for d in cells if "change" in d] and all(
            d.get("still_called") or (d.get("caller_via") == "external" and
                                      d.get("member_name") not in (d.get("members_missing") or []))
            for d in lost):
        callers = _names(sorted({f"{d['caller_class']}.{d['caller']}" for d in lost if d.get("caller_class")}))
        c.title = f"dagster calls `{c.subject}` fewer times" + (f" from {callers}" if callers else "")
        move(_weaker(c.severity, WARNING), "the member is still called where it was (by dagster's code outside "
             "the instance, or by the instance into its storage), only fewer times: overrides still run")
        c.fix = (f"Nothing is skipped for good: overrides of `{c.subject}` still run. If they count calls or "
                 f"rely on running once per check, make sure the fewer calls are intended.")
    elif c.kind in ("dispatch-changed", "dispatch-reordered") and lost == [] and not static and cells and all(
            d.get("change") in ("added", "reordered") and not d.get("members_missing") for d in cells if "change" in d):
        move(_weaker(c.severity, WARNING), "every override that ran still runs, as often: the base now also calls "
             "some, or calls them in another order (dagster 1.13 opens an index transaction for asset tags): a "
             "warning unless its witness fails")
    elif c.kind == "dispatch-gained":
        move(_weaker(c.severity, WARNING), "a gained dispatch runs overrides where they did not run before: "
             "a warning unless its witness fails")
    elif c.kind == "dispatch-arguments" and cells:
        shapes = [(d.get("old_call"), d.get("new_call")) for d in cells]
        if all(o and n for o, n in shapes):
            if all(_to_keywords(o, n) for o, n in shapes):
                move(BREAKING, "arguments once passed by position are now passed by keyword: an override "
                     "that names its parameters otherwise raises TypeError")
            elif all(_to_keywords(n, o) for o, n in shapes):
                move(_weaker(c.severity, WARNING), "arguments once passed by keyword are now passed by "
                     "position: only an override that reads them from **kwargs by name breaks")
    elif c.kind == "exception" and cells and all("old_type" in d for d in cells):
        if all(d["old_type"] in CRASHES and d["new_type"] is None for d in cells):
            move(INFO, "a step that used to crash (a programming error such as AttributeError) now returns a "
                 "result: a bug fix, or a member the old side lacked (or a name it could not import)")
            c.fix = (f"Nothing breaks for callers; if `{c.subject.partition(':')[0]}` should still refuse "
                     f"this call, raise the old exception type again.")
        elif all(d["old_type"] is None and d["new_type"] is not None for d in cells):
            c.fix = (f"Accept the call `{c.subject}` as before, or document that it now raises: callers "
                     f"that got a value now get an exception.")
        elif all(d["old_type"] is not None and d["old_type"] == d["new_type"] for d in cells):
            move(INFO, "the same exception type with another message: callers catching it by type see no change")
            c.fix = (f"Nothing breaks: `{c.subject}` still raises the same exception type. If callers parse "
                     f"the message, keep its wording.")
    elif c.kind == "state" and cells and all(d.get("gained") for d in cells):
        move(_weaker(c.severity, WARNING), "the storage now holds something in addition (a key or a tag the old "
             "state lacked) and nothing it held changed: readers see more, not other values")
    elif c.kind == "state" and c.subject.endswith(".__exception__.message"):
        move(INFO, "the storage could not be read on either side after the same steps; only how the read "
             "failed differs")
    elif c.kind == "name-clash":
        if c.downstream:  # the corpus's own classes are listed under c.corpus
            move(BREAKING, "a real downstream subclass already uses the name")
        else:
            move(_weaker(c.severity, WARNING), "only the shipped corpus uses the name; no downstream profile does")
    elif c.kind == "added":
        protected = [f.member for f in c.findings
                     if _bare(f.member) != f.member.removeprefix("self.") and not f.member.endswith("__")]
        if protected and c.severity == INFO:
            move(WARNING, f"new protected members ({_names(sorted(protected))}) a subclass may already define: "
                 f"its own value replaces the base's, or the base's replaces its own")
    elif c.kind == "member" and c.severity == INFO and any(f.rule == parameter_renamed.rule_id for f in c.findings):
        move(WARNING, "a renamed parameter breaks callers that pass it by keyword")


# exceptions no code raises on purpose: a step that stops raising one of them had a bug fixed; a step
# that stops raising anything else (a check, a not-found error, a conflict) no longer refuses what it
# refused, and callers that relied on the refusal break
# (an ImportError is a name the old side did not have: a scenario reaching for it there gains it)
CRASHES = frozenset({"AttributeError", "TypeError", "NameError", "UnboundLocalError", "KeyError", "IndexError",
                     "ZeroDivisionError", "RecursionError", "ImportError", "ModuleNotFoundError"})


def _to_keywords(old: dict, new: dict) -> bool:
    """`new` passes by keyword some argument that `old` passed by position, and none the other way."""
    gained = set(new["kwargs"]) - set(old["kwargs"])
    return bool(gained) and len(new["args"]) < len(old["args"]) and set(old["kwargs"]) <= set(new["kwargs"])


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
        for name in {c.subject, f.member, sub_member(f)}:
            text = text.replace(f"'{name}'", "'<m>'").replace(f"`{name}`", "`<m>`")
        texts.append(f"{f.rule}|{f.severity}|{text}")
    return "\n".join(sorted(texts))


def _dispatch_what(c: Cause) -> str:
    verb = {"dispatch-lost": "no longer reaches", "dispatch-gained": "now calls", "dispatch-arguments":
            "passes other arguments to", "dispatch-reordered": "reorders calls around", "dispatch-obscured":
            "hands self to code outside the class instead of reaching"}.get(c.kind, c.kind)
    target = c.subject if c.kind != "dispatch-obscured" else "its hooks"
    return f"{verb} `{target}`" if c.kind != "dispatch-obscured" else f"{verb} its hooks"


def _names(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


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


def counts(causes: list[Cause]) -> dict[str, int]:
    by = {s: 0 for s in SEVERITIES}
    for c in causes:
        by[c.severity] += 1
    return by


def verdict(causes: list[Cause], fail_on: str, *, accepted: int = 0, incomplete: tuple[int, int] | None = None) -> str:
    """The first line of every report: `incompatible: 14 causes (9 breaking, 5 warning); 2
    affect dagster-cloud`. With --fail-on never the line still says what the causes amount to.
    Accepted findings are counted (`compatible, 28 accepted: no differences`): an exemption is
    never silent. A run that did not run every unit (``incomplete``: how many ran, of how many)
    never says compatible: `incomplete: 12 of 652 units ran`, then what those found."""
    text = _verdict(causes, fail_on, accepted)
    if incomplete is not None:
        return f"incomplete: {incomplete[0]} of {incomplete[1]} units ran (what ran says {text})"
    return text


def verdict_word(causes: list[Cause], fail_on: str, *, incomplete: tuple[int, int] | None = None) -> str:
    """compatible, incompatible or incomplete: the verdict's first word, decided from the causes
    (with --fail-on never, what they amount to at breaking)."""
    if incomplete is not None:
        return "incomplete"
    threshold = "breaking" if fail_on == "never" else fail_on
    failing = [c for c in causes if at_or_above(c.severity, threshold, typing=c.typing_only)]
    return "incompatible" if failing else "compatible"


def _verdict(causes: list[Cause], fail_on: str, accepted: int) -> str:
    word = verdict_word(causes, fail_on)
    if accepted:
        word += f", {accepted} accepted"
    by = counts(causes)
    serious = [c for c in causes if c.severity != INFO]
    if not causes:
        return f"{word}: no differences"
    detail = ", ".join(f"{by[s]} {s}" for s in (BREAKING, WARNING) if by[s])
    text = f"{word}: {len(serious)} cause{'s' if len(serious) != 1 else ''}"
    text += f" ({detail})" if detail else ""
    if by[INFO]:
        text += f", {by[INFO]} info"
    packages: dict[str, int] = {}
    for c in serious:
        for p in c.packages:
            packages[p] = packages.get(p, 0) + 1
    for p, n in sorted(packages.items()):
        text += f"; {n} affect{'s' if n == 1 else ''} {p}"
    if fail_on == "never":
        text += " (report only: --fail-on never)"
    return text


__all__ = ["Cause", "build_causes", "cause_order", "effective_severities", "policy_severity", "verdict", "verdict_word", "counts",
           "worst"]

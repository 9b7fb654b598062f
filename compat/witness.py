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

The programs are written by :mod:`compat.witness_programs` (and, for a type checker, by
:mod:`compat.witness_typing`); this module runs them on both sides and judges each cause by
their outcomes.
"""


from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

from compat.causes import Cause
from compat.causes.policy import _weaker
from compat.model.errors import CompatError
from compat.model.findings import BREAKING, INFO, WARNING
from compat.model.surface import Surface
from compat.witness_programs import _hooks, _probe_order, _probes, program
from compat.witness_run import (  # noqa: F401 - the witnesses' names, read from here by their users
    CALL_SITES, INSTANCE_PARTS, RUNTIME, SETUP_FAILED, TIMEOUT, TYPING, Witness, run_one, unproven_why,
)
from compat.witness_typing import _TYPED_KINDS, _OldModules, typing_program


# kinds whose witness may raise a cause above the policy's severity (a protected name the base
# made a read-only property, a renamed dunder parameter, a gained dispatch an override fails in)
_RAISED_BY_WITNESS = ("member", "added", "dispatch-gained")


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

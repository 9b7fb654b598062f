"""griffe's own breaking-change check on the same two classes, for side-by-side reports.

`griffe.find_breaking_changes` is the tool a maintainer would reach for first; showing its
answer next to ours, in the same run and on the same classes, makes the difference visible:
it compares public callers' view of one class, while the harness flattens mixins, keeps
protected members and attributes, and checks what subclasses rely on.

Each kind of breakage griffe reports is a rule of the one rule registry (``griffe-<kind>``,
registered below with a toy class pair that griffe reports it on). griffe 2.4.1 defines two
kinds it never reports (attribute type and value changes: its attribute check is a stub);
they have no rule, and a kind without one is a harness error rather than an unnamed finding.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import griffe

from compat import sides
from compat.model.errors import CompatError
from compat.model.findings import BREAKING, CALLERS, Finding
from compat.rules.registry import GRIFFE, Rule, register, source_fixture
from compat.static.extract import parse_target

GRIFFE_PREFIX = "griffe-"
# kinds griffe 2.4.1 declares but never reports (its attribute check yields nothing)
UNREPORTED_KINDS = frozenset({griffe.BreakageKind.ATTRIBUTE_CHANGED_TYPE, griffe.BreakageKind.ATTRIBUTE_CHANGED_VALUE})
RULES_BY_KIND: dict[griffe.BreakageKind, Rule] = {}


def _search_paths(source: str) -> list[str]:
    if source.endswith(".json"):
        raise CompatError(f"--griffe needs sources, not a snapshot file: {source}")
    return sides.resolve(source).search_paths


def load_class(source: str, target: str) -> griffe.Class:
    """griffe's default whole-package load, then the target class (aliases followed)."""
    module, qualname = parse_target(target)
    package = griffe.load(module.split(".")[0], search_paths=_search_paths(source), allow_inspection=False)
    obj = package.modules_collection.get_member(f"{module}.{qualname}")
    while isinstance(obj, griffe.Alias):
        obj = obj.final_target
    if not isinstance(obj, griffe.Class):
        raise CompatError(f"{target}: not a class in {source}")
    return obj


def load_sources(files: dict[str, str], target: str) -> griffe.Class:
    """griffe's load of a toy package given as {relative path: source}; for rule fixtures."""
    module, qualname = parse_target(target)
    with tempfile.TemporaryDirectory(prefix="compat-griffe-") as tmp:
        for rel, text in files.items():
            path = Path(tmp, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        package = griffe.load(module.split(".")[0], search_paths=[tmp], allow_inspection=False)
        obj = package.modules_collection.get_member(f"{module}.{qualname}")
    if not isinstance(obj, griffe.Class):
        raise CompatError(f"{target}: not a class in the given sources")
    return obj


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _rule_for(kind: griffe.BreakageKind) -> Rule:
    try:
        return RULES_BY_KIND[kind]
    except KeyError:
        raise CompatError(f"griffe reports a breakage kind the harness has no rule for: {kind.name} "
                          f"({kind.value}); register it in compat/static/griffe_compare.py") from None


def breakage_member(b, old_cls: griffe.Class, new_cls: griffe.Class) -> str:
    """The class member a griffe breakage is about (its object's path below either class)."""
    path = b.obj.path
    for prefix in (new_cls.path + ".", old_cls.path + "."):
        if path.startswith(prefix):
            path = path[len(prefix):]
            break
    return path.split(".")[0]


def breakages_to_findings(old_cls: griffe.Class, new_cls: griffe.Class) -> list[Finding]:
    out = []
    for b in griffe.find_breaking_changes(old_cls, new_cls):
        member = breakage_member(b, old_cls, new_cls)
        out.append(
            _rule_for(b.kind).finding(
                member,
                f"griffe: {b.kind.value}",
                old=str(b.old_value) if b.old_value is not None else None,
                new=str(b.new_value) if b.new_value is not None else None,
            )
        )
    return out


def _griffe_rule(kind: griffe.BreakageKind, *, id: str, summary: str, explanation: str, fix: str, old: str, new: str,
                 near_old: str, near_new: str, about: str) -> Rule:
    """Register the rule of one griffe breakage kind; its id is griffe's own wording, slugged."""
    if id != GRIFFE_PREFIX + _slug(kind.value):
        raise ValueError(f"rule {id}: the id of griffe's {kind.name} is {GRIFFE_PREFIX + _slug(kind.value)}")
    RULES_BY_KIND[kind] = register(
        id=id, severity=BREAKING, audience=CALLERS, layer=GRIFFE, family="griffe", summary=summary,
        explanation=explanation, fix=fix,
        fixture=source_fixture(old, new), near_miss=source_fixture(near_old, near_new, about=about),
    )
    return RULES_BY_KIND[kind]


_K = griffe.BreakageKind
_griffe_rule(
    _K.PARAMETER_MOVED, id="griffe-positional-parameter-was-moved",
    summary="A positional parameter sits at another position.",
    explanation="Positional callers bind their arguments to the wrong parameters, usually without an error.",
    fix="Keep the positional order; add new parameters at the end or as keyword-only.",
    old="class Instance:\n    def get_runs(self, filters, limit): ...\n",
    new="class Instance:\n    def get_runs(self, limit, filters): ...\n",
    near_old="class Instance:\n    def get_runs(self, *, filters, limit): ...\n",
    near_new="class Instance:\n    def get_runs(self, *, limit, filters): ...\n",
    about="keyword-only parameters have no position: reordering them moves nothing",
)
_griffe_rule(
    _K.PARAMETER_REMOVED, id="griffe-parameter-was-removed",
    summary="A parameter is gone from the signature.",
    explanation="Callers passing it get TypeError (unexpected keyword, or too many positional arguments).",
    fix="Keep the parameter (deprecated, ignored if need be) until callers have moved off it.",
    old="class Instance:\n    def get_runs(self, filters, limit): ...\n",
    new="class Instance:\n    def get_runs(self, filters): ...\n",
    near_old="class Instance:\n    def get_runs(self, filters, *, limit): ...\n",
    near_new="class Instance:\n    def get_runs(self, filters, **kwargs): ...\n",
    about="a keyword-only parameter removed into **kwargs: callers passing it get no error",
)
_griffe_rule(
    _K.PARAMETER_CHANGED_KIND, id="griffe-parameter-kind-was-changed",
    summary="A parameter can no longer be passed the way it could (positional or keyword).",
    explanation="Callers using the calling style that was taken away get TypeError.",
    fix="Keep accepting the calling style callers used.",
    old="class Instance:\n    def get_runs(self, limit): ...\n",
    new="class Instance:\n    def get_runs(self, *, limit): ...\n",
    near_old="class Instance:\n    def get_runs(self, *, limit): ...\n",
    near_new="class Instance:\n    def get_runs(self, limit): ...\n",
    about="keyword-only to positional-or-keyword only adds a calling style",
)
_griffe_rule(
    _K.PARAMETER_CHANGED_DEFAULT, id="griffe-parameter-default-was-changed",
    summary="An optional parameter's default value changed.",
    explanation="Callers that omit the argument silently get another behaviour.",
    fix="Keep the old default, or announce the change where callers will see it.",
    old="class Instance:\n    def get_runs(self, limit=100): ...\n",
    new="class Instance:\n    def get_runs(self, limit=10): ...\n",
    near_old="class Instance:\n    def get_runs(self, limit=None): ...\n",
    near_new="class Instance:\n    def get_runs(self, limit = None): ...\n",
    about="the same default, spelled with other spacing",
)
_griffe_rule(
    _K.PARAMETER_CHANGED_REQUIRED, id="griffe-parameter-is-now-required",
    summary="An optional parameter became required.",
    explanation="Callers that relied on the default get TypeError (missing argument).",
    fix="Keep the default.",
    old="class Instance:\n    def get_runs(self, limit=None): ...\n",
    new="class Instance:\n    def get_runs(self, limit): ...\n",
    near_old="class Instance:\n    def get_runs(self, limit): ...\n",
    near_new="class Instance:\n    def get_runs(self, limit=None): ...\n",
    about="a required parameter that became optional: every existing call still fits",
)
_griffe_rule(
    _K.PARAMETER_ADDED_REQUIRED, id="griffe-parameter-was-added-as-required",
    summary="A new parameter without a default.",
    explanation="Every existing caller is missing it: TypeError.",
    fix="Give the new parameter a default.",
    old="class Instance:\n    def get_runs(self): ...\n",
    new="class Instance:\n    def get_runs(self, limit): ...\n",
    near_old="class Instance:\n    def get_runs(self): ...\n",
    near_new="class Instance:\n    def get_runs(self, limit=None): ...\n",
    about="the new parameter has a default: existing calls still fit",
)
_griffe_rule(
    _K.RETURN_CHANGED_TYPE, id="griffe-return-types-are-incompatible",
    summary="A method lost its return annotation (griffe's only return-type check).",
    explanation="Type-checked callers no longer know what the method returns.",
    fix="Keep the return annotation.",
    old="class Instance:\n    def get_run_count(self) -> int: ...\n",
    new="class Instance:\n    def get_run_count(self): ...\n",
    near_old="class Instance:\n    def get_run_count(self) -> int: ...\n",
    near_new="class Instance:\n    def get_run_count(self) -> str: ...\n",
    about="another return type: griffe does not compare annotations yet (`return-annotation-changed` does)",
)
_griffe_rule(
    _K.OBJECT_REMOVED, id="griffe-public-object-was-removed",
    summary="A public member is gone.",
    explanation="Callers get AttributeError.",
    fix="Keep the member, delegating to its replacement, and deprecate it before removing it.",
    old="class Instance:\n    def get_runs(self): ...\n",
    new="class Instance:\n    pass\n",
    near_old="class Instance:\n    def get_runs(self): ...\n",
    near_new="class RunsMixin:\n    def get_runs(self): ...\n\n\nclass Instance(RunsMixin):\n    pass\n",
    about="the member moved into a mixin: griffe follows inherited members",
)
_griffe_rule(
    _K.OBJECT_CHANGED_KIND, id="griffe-public-object-points-to-a-different-kind-of-object",
    summary="A public member changed kind (function, attribute, class).",
    explanation="Callers calling it get TypeError, or callers reading it get a bound method.",
    fix="Keep the old kind; add the new shape under a new name.",
    old="class Instance:\n    def is_persistent(self): ...\n",
    new="class Instance:\n    is_persistent = True\n",
    near_old="class Instance:\n    @property\n    def is_persistent(self): ...\n",
    near_new="import functools\n\n\nclass Instance:\n    @functools.cached_property\n    def is_persistent(self): ...\n",
    about="property to cached_property: both are attributes to griffe",
)
_griffe_rule(
    _K.CLASS_REMOVED_BASE, id="griffe-base-class-was-removed",
    summary="A class nested in the target lost one of its bases.",
    explanation="`isinstance` checks against the removed base fail, and what the class inherited from it is gone.",
    fix="Keep the base in the nested class's bases.",
    old="class A: ...\nclass B: ...\n\n\nclass Instance:\n    class Config(A, B): ...\n",
    new="class A: ...\nclass B: ...\n\n\nclass Instance:\n    class Config(A): ...\n",
    near_old="class A: ...\nclass B: ...\n\n\nclass Instance:\n    class Config(A, B): ...\n",
    near_new="class A: ...\nclass B: ...\n\n\nclass Instance:\n    class Config(B, A): ...\n",
    about="the bases were reordered, none removed",
)


def griffe_findings(old: str, new: str, target: str) -> list[Finding]:
    return breakages_to_findings(load_class(old, target), load_class(new, target))


def side_by_side(ours: list[Finding], theirs: list[Finding], *, markdown: bool) -> str:
    """Counts and per-member overlap of our findings and griffe's, for the same two classes."""
    from collections import Counter

    ours_by_member: dict[str, set[str]] = {}
    for f in ours:
        if f.severity != "info":
            ours_by_member.setdefault(f.member, set()).add(f.rule)
    theirs_by_member: dict[str, set[str]] = {}
    for f in theirs:
        theirs_by_member.setdefault(f.member, set()).add(f.rule.removeprefix(GRIFFE_PREFIX))
    both = sorted(set(ours_by_member) & set(theirs_by_member))
    only_griffe = sorted(set(theirs_by_member) - set(ours_by_member))
    only_ours = sorted(set(ours_by_member) - set(theirs_by_member))
    kinds = Counter(f.rule.removeprefix(GRIFFE_PREFIX) for f in theirs)
    lines: list[str] = []
    if markdown:
        lines += ["", "## Side by side: `griffe.find_breaking_changes` on the same classes", "",
                  f"griffe reports {len(theirs)} breakages on {len(theirs_by_member)} members; compat reports "
                  f"breaking or warning findings on {len(ours_by_member)} members.", "",
                  "| griffe breakage kind | count |", "| --- | ---: |"]
        lines += [f"| {k} | {v} |" for k, v in sorted(kinds.items())]
        lines += ["", f"- members both flag: {len(both)}", f"- members only griffe flags: {len(only_griffe)}"
                  + (f" ({', '.join('`' + m + '`' for m in only_griffe)})" if only_griffe else ""),
                  f"- members only compat flags: {len(only_ours)}", ""]
        if only_ours:
            lines += ["<details><summary>members only compat flags, with its rules</summary>", ""]
            lines += [f"- `{m}`: {', '.join(sorted(ours_by_member[m]))}" for m in only_ours]
            lines += ["", "</details>", ""]
    else:
        lines += ["", f"griffe.find_breaking_changes on the same classes: {len(theirs)} breakages on "
                  f"{len(theirs_by_member)} members ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none'})",
                  f"  members both flag: {len(both)}; only griffe: {len(only_griffe)} {only_griffe if only_griffe else ''}; "
                  f"only compat: {len(only_ours)}"]
    return "\n".join(lines) + "\n"

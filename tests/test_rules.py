"""The rule catalogue: every rule fires on its fixture pair and stays quiet on a near miss.

Fixtures are toy packages (``pkg``, target ``pkg.mod:Instance``) written as source text; a line
``# pkg/<file>.py`` starts another file (see ``compat.rules.base.example_files``). Each rule's
documented example is its first firing fixture, so the examples in docs/rules.md are tested.
"""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import pytest

from compat.static.diff import compare_surfaces
from compat.model.errors import CompatError
from compat.model.findings import AUDIENCES, SEVERITIES
from compat.model.surface import (
    KEYWORD_ONLY,
    METHOD,
    POSITIONAL_OR_KEYWORD,
    PUBLIC,
    ClassInfo,
    ImportPath,
    Member,
    Parameter,
    Signature,
    Surface,
)
from compat.catalogue import RULES, all_rules
from compat.rules.classes import _MOVED_REEXPORTED_NEW, _MOVED_REEXPORTED_OLD
from compat.rules.members import _INTO_MIXIN_NEW, _INTO_MIXIN_OLD
from compat.rules.base import EXAMPLE_TARGET, example_files
from compat.catalogue.docs import render_rules_markdown
from compat.static.extract import from_sources

ROOT = Path(__file__).resolve().parents[1]
SURFACE_RULES = {r.id: r for r in all_rules("surface")}


@functools.lru_cache(maxsize=None)
def surface_of(source: str) -> Surface:
    return from_sources(example_files(textwrap.dedent(source)), EXAMPLE_TARGET)


def findings(old: str, new: str, rule: str | None = None):
    found = compare_surfaces(surface_of(old), surface_of(new))
    return [f for f in found if rule is None or f.rule == rule]


def rules_fired(old: str, new: str) -> set[str]:
    return {f.rule for f in findings(old, new)}


# --------------------------------------------------------------------------- catalogue


def test_rule_ids_are_stable_kebab_case_with_valid_metadata():
    for r in all_rules("surface"):
        assert r.id == r.id.lower() and " " not in r.id and "_" not in r.id, r.id
        assert r.severity in SEVERITIES and r.audience in AUDIENCES
        assert r.summary and r.explanation and r.why_subclasses and r.fix
        assert r.example_old.strip() and r.example_new.strip()


@pytest.mark.parametrize("rule_id", sorted(SURFACE_RULES))
def test_documented_example_fires(rule_id):
    r = RULES[rule_id]
    hits = findings(r.example_old, r.example_new, rule_id)
    assert hits, f"{rule_id} does not fire on its own documented example"
    for f in hits:
        assert f.severity == r.severity
        assert f.member and f.message


# --------------------------------------------------------------------------- more firing pairs

FIRES = [
    # (rule, case id, old, new)
    ("public-member-removed", "class-attribute", "class Instance:\n    LIMIT = 3\n", "class Instance:\n    pass\n"),
    ("public-member-removed", "property", "class Instance:\n    @property\n    def x(self): ...\n", "class Instance:\n    pass\n"),
    ("dunder-member-removed", "init", "class Instance:\n    def __init__(self, a): ...\n", "class Instance:\n    pass\n"),
    ("member-kind-changed", "method-to-class-attribute", "class Instance:\n    def x(self): ...\n", "class Instance:\n    x = 1\n"),
    ("member-binding-changed", "property-to-cached", "from functools import cached_property\nclass Instance:\n    @property\n    def x(self): ...\n",
     "from functools import cached_property\nclass Instance:\n    @cached_property\n    def x(self): ...\n"),
    ("parameter-removed", "positional-with-kwargs",
     "class Instance:\n    def f(self, a, b, **kw): ...\n", "class Instance:\n    def f(self, a, **kw): ...\n"),
    ("parameter-renamed", "keyword-only", "class Instance:\n    def f(self, *, a): ...\n", "class Instance:\n    def f(self, *, b): ...\n"),
    ("parameter-renamed", "init", "class Instance:\n    def __init__(self, settings): ...\n", "class Instance:\n    def __init__(self, config): ...\n"),
    ("parameter-reordered", "optional-inserted-before", "class Instance:\n    def f(self, a, b=1): ...\n",
     "class Instance:\n    def f(self, a, x=None, b=1): ...\n"),
    ("parameter-kind-changed", "positional-only", "class Instance:\n    def f(self, a): ...\n", "class Instance:\n    def f(self, a, /): ...\n"),
    ("required-parameter-added", "keyword-only", "class Instance:\n    def f(self, a): ...\n", "class Instance:\n    def f(self, a, *, b): ...\n"),
    ("optional-parameter-added", "init-kwarg", "class Instance:\n    def __init__(self, a=None): ...\n",
     "class Instance:\n    def __init__(self, a=None, *, defs_state_storage=None): ...\n"),
    ("return-annotation-changed", "property", "class Instance:\n    @property\n    def x(self) -> int: ...\n",
     "class Instance:\n    @property\n    def x(self) -> str: ...\n"),
    ("parameter-annotation-changed", "optional-to-required-type", "from typing import Optional\nclass Instance:\n    def f(self, a: Optional[int]): ...\n",
     "class Instance:\n    def f(self, a: int): ...\n"),
    ("hook-no-longer-called", "method-hook-through-helper-lost",
     """
     class Instance:
         def _hook(self): ...
         def _helper(self):
             return self._hook()
         def run(self):
             return self._helper()
     """,
     """
     class Instance:
         def _hook(self): ...
         def _helper(self):
             return 1
         def run(self):
             return self._helper()
     """),
    ("hook-no-longer-called", "inline-manager-reads-private-state",
     """
     class Instance:
         def get_record(self, run_id):
             return self._runs.get(run_id)
         def get_run(self, run_id):
             return self.get_record(run_id)
     """,
     """
     class _Manager:
         def __init__(self, instance):
             self._instance = instance
         def get_run(self, run_id):
             return self._instance._runs.get(run_id)
     class Instance:
         def get_record(self, run_id):
             return self._runs.get(run_id)
         def get_run(self, run_id):
             return _Manager(self).get_run(run_id)
     """),
    ("hook-call-obscured", "super-call",
     """
     class Base:
         def run(self): ...
     class Instance(Base):
         @property
         def run_launcher(self): ...
         def run(self):
             return self.run_launcher
     """,
     """
     class Base:
         def run(self): ...
     class Instance(Base):
         @property
         def run_launcher(self): ...
         def run(self):
             return super().run()
     """),
    ("hook-call-obscured", "self-handed-to-a-module-function",
     """
     class Instance:
         def handle_new_event(self, e): ...
         def wipe_assets(self, keys):
             self.handle_new_event(keys)
     """,
     """
     def wipe(instance, keys):
         instance.handle_new_event(keys)
     class Instance:
         def handle_new_event(self, e): ...
         def wipe_assets(self, keys):
             return wipe(self, keys)
     """),
    ("member-resolution-changed", "own-override-dropped-for-the-bases",
     "class Base:\n    def f(self): return 1\nclass Instance(Base):\n    def f(self): return 2\n",
     "class Base:\n    def f(self): return 1\nclass Instance(Base): ...\n"),
    ("parameter-renamed", "protocol-dunder-at-info",
     "class Instance:\n    def __exit__(self, exc_type, exc, tb): ...\n", "class Instance:\n    def __exit__(self, _exc_type, _exc, _tb): ...\n"),
    ("parameter-removed", "keyword-lost-with-only-args-left",
     "class Instance:\n    def f(self, key): ...\n", "class Instance:\n    def f(self, *args): ...\n"),
    ("parameter-removed-into-kwargs", "positional-only-into-args",
     "class Instance:\n    def f(self, key, /): ...\n", "class Instance:\n    def f(self, *key): ...\n"),
    ("parameter-removed-into-kwargs", "into-args-and-kwargs",
     "class Instance:\n    def f(self, key): ...\n", "class Instance:\n    def f(self, *args, **kwargs): ...\n"),
    ("parameter-annotation-changed", "abstract-set-narrowed-to-typing-set",
     "from typing import AbstractSet\nclass Instance:\n    def f(self, a: AbstractSet[int]): ...\n",
     "from typing import Set\nclass Instance:\n    def f(self, a: Set[int]): ...\n"),
    ("instance-attribute-removed", "public-attribute-audience",
     "class Instance:\n    def __init__(self):\n        self.name = 1\n", "class Instance:\n    def __init__(self):\n        pass\n"),
    ("member-resolution-changed", "mro-order",
     """
     class A:
         def f(self): ...
     class B:
         def f(self): ...
     class Instance(A, B): ...
     """,
     """
     class A:
         def f(self): ...
     class B:
         def f(self): ...
     class Instance(B, A): ...
     """),
]


@pytest.mark.parametrize("rule_id,old,new", [pytest.param(r, o, n, id=f"{r}/{c}") for r, c, o, n in FIRES])
def test_fires(rule_id, old, new):
    assert findings(old, new, rule_id), f"{rule_id} did not fire; got {sorted(rules_fired(old, new))}"


def test_public_instance_attribute_audience_includes_callers():
    old = "class Instance:\n    def __init__(self):\n        self.name = 1\n        self._p = 2\n"
    new = "class Instance:\n    def __init__(self):\n        pass\n"
    by_member = {f.member: f.audience for f in findings(old, new, "instance-attribute-removed")}
    assert by_member == {"self.name": "callers+subclasses", "self._p": "subclasses"}


# --------------------------------------------------------------------------- near misses

# the near misses registered with the rules are run by tests/test_registry.py; these are the
# further close changes some rules must also stay quiet on
MIXIN_OLD, MIXIN_NEW = textwrap.dedent(_INTO_MIXIN_OLD), textwrap.dedent(_INTO_MIXIN_NEW)
MOVED_OLD, MOVED_NEW = textwrap.dedent(_MOVED_REEXPORTED_OLD), textwrap.dedent(_MOVED_REEXPORTED_NEW)

EXPLICIT_OLD = """
class Instance:
    def handle_new_event(self, e): ...
    def wipe_assets(self, keys):
        self.handle_new_event(keys)
"""
EXPLICIT_NEW = """
class AssetMethods:
    def wipe_assets(self, keys):
        self.handle_new_event(keys)
class Instance(AssetMethods):
    def handle_new_event(self, e): ...
    def wipe_assets(self, keys):
        return AssetMethods.wipe_assets(self, keys)
"""

NEAR_MISSES = [
    # (rule that must NOT fire, case id, old, new)
    ("member-moved", "class-moved-with-its-members", MOVED_OLD, MOVED_NEW),
    ("member-resolution-changed", "moved-into-new-mixin", MIXIN_OLD, MIXIN_NEW),
    ("parameter-removed", "positional-only-into-args",
     "class Instance:\n    def f(self, key, /): ...\n", "class Instance:\n    def f(self, *key): ...\n"),
    ("parameter-removed", "into-args-and-kwargs",
     "class Instance:\n    def f(self, key): ...\n", "class Instance:\n    def f(self, *args, **kwargs): ...\n"),
    ("parameter-removed-into-kwargs", "positional-lost-only-kwargs-left",
     "class Instance:\n    def f(self, key): ...\n", "class Instance:\n    def f(self, **kwargs): ...\n"),
    ("hook-call-obscured", "explicit-call-into-a-class-of-the-mro", EXPLICIT_OLD, EXPLICIT_NEW),
    ("hook-no-longer-called", "explicit-call-into-a-class-of-the-mro", EXPLICIT_OLD, EXPLICIT_NEW),
    ("parameter-reordered", "optional-appended",
     "class Instance:\n    def f(self, a, b=1): ...\n", "class Instance:\n    def f(self, a, b=1, c=None): ...\n"),
    ("return-annotation-changed", "optional-spelling",
     "from typing import Optional\nclass Instance:\n    def f(self) -> Optional[int]: ...\n",
     "class Instance:\n    def f(self) -> int | None: ...\n"),
    ("return-annotation-changed", "annotation-added",
     "class Instance:\n    def f(self): ...\n", "class Instance:\n    def f(self) -> int: ...\n"),
    ("parameter-annotation-changed", "union-spelling",
     "from typing import Union, List\nclass Instance:\n    def f(self, a: Union[int, None], b: List[str]): ...\n",
     "class Instance:\n    def f(self, a: int | None, b: list[str]): ...\n"),
    ("hook-no-longer-called", "call-moved-into-property",
     """
     class Instance:
         def get_settings(self, key): ...
         def run(self):
             return self.get_settings("a")
     """,
     """
     class Instance:
         def get_settings(self, key): ...
         @property
         def _a(self):
             return self.get_settings("a")
         def run(self):
             return self._a
     """),
    ("hook-no-longer-called", "call-moved-into-inline-manager",
     """
     class Instance:
         def get_record(self, run_id): ...
         def get_run(self, run_id):
             return self.get_record(run_id)
     """,
     """
     class _Manager:
         def __init__(self, instance):
             self._instance = instance
         def get_run(self, run_id):
             return self._instance.get_record(run_id)
     class Instance:
         def get_record(self, run_id): ...
         def get_run(self, run_id):
             return _Manager(self).get_run(run_id)
     """),
]


@pytest.mark.parametrize("rule_id,old,new", [pytest.param(r, o, n, id=f"{r}/{c}") for r, c, o, n in NEAR_MISSES])
def test_near_miss_does_not_fire(rule_id, old, new):
    hits = findings(old, new, rule_id)
    assert not hits, "\n".join(f"{f.rule} {f.member}: {f.message}" for f in hits)


def test_every_rule_has_a_near_miss():
    """Each surface rule carries its near miss with it (run by tests/test_registry.py)."""
    assert sorted(r.id for r in SURFACE_RULES.values() if r.near_miss is None or not r.near_miss.about) == []


# --------------------------------------------------------------------------- whole-diff precision


def test_identical_sources_have_no_findings():
    src = MIXIN_NEW
    assert findings(src, src) == []


def test_annotation_spellings_are_no_finding_at_all():
    old = """
    from typing import Optional, Union, List, Dict
    class Instance:
        def f(self, a: Optional[int], b: Union[str, None] = None) -> Dict[str, List[int]]: ...
    """
    new = """
    import typing
    class Instance:
        def f(self, a: int | None, b: typing.Optional[str] = None) -> dict[str, list[int]]: ...
    """
    assert findings(old, new) == []


def test_move_into_mixin_is_only_member_moved():
    fired = findings(MIXIN_OLD, MIXIN_NEW)
    assert {f.rule for f in fired} == {"member-moved", "base-added"}
    moved = sorted(f.member for f in fired if f.rule == "member-moved")
    assert moved == ["__enter__", "_get_setting", "telemetry_enabled"]
    assert all(f.severity == "info" for f in fired)


def test_class_moved_with_reexport_is_info_only():
    fired = findings(MOVED_OLD, MOVED_NEW)
    assert [f.rule for f in fired] == ["class-moved"]
    assert fired[0].details == {"old_path_resolves": True}


def test_class_moved_without_reexport_breaks_the_old_import():
    new = MOVED_NEW.replace("from pkg.instance import Instance, InstanceType", "from pkg.instance import Instance")
    new = new.replace("# pkg/__init__.py\nfrom pkg.mod import Instance", "# pkg/__init__.py\nfrom pkg.instance import Instance")
    rules = rules_fired(MOVED_OLD, new)
    assert "export-removed" in rules  # pkg.mod.InstanceType
    assert "class-moved" in rules


def test_keyword_only_reorder_is_no_finding():
    assert findings(
        "class Instance:\n    def f(self, a, *, b=1, c=2): ...\n", "class Instance:\n    def f(self, a, *, c=2, b=1): ...\n"
    ) == []


def test_hook_reachability_through_a_chain_of_helpers():
    old = """
    class Instance:
        def should_store_event(self, e): ...
        def handle_new_event(self, e):
            if self.should_store_event(e): ...
        def report_engine_event(self, e):
            return self.handle_new_event(e)
    """
    new = """
    class Instance:
        def should_store_event(self, e): ...
        def _store(self, e):
            if self.should_store_event(e): ...
        def handle_new_event(self, e):
            return self._store(e)
        def report_engine_event(self, e):
            return self.handle_new_event(e)
    """
    assert "hook-no-longer-called" not in rules_fired(old, new)


def test_hook_lost_in_a_callee_is_reported_on_every_caller():
    old = """
    class Instance:
        def should_store_event(self, e): ...
        def handle_new_event(self, e):
            if self.should_store_event(e): ...
        def report_engine_event(self, e):
            return self.handle_new_event(e)
    """
    new = """
    class Instance:
        def should_store_event(self, e): ...
        def handle_new_event(self, e):
            return self._storage.store(e)
        def report_engine_event(self, e):
            return self.handle_new_event(e)
    """
    hits = findings(old, new, "hook-no-longer-called") + findings(old, new, "hook-call-obscured")
    assert sorted((f.member, f.details.get("hook") or f.details["hooks"][0]) for f in hits) == [
        ("handle_new_event", "should_store_event"),
        ("report_engine_event", "should_store_event"),
    ]



def test_helper_built_inline_around_the_instance_is_followed():
    """`_Manager(self).m()` and `mgr = _Manager(self); mgr.m()` are read like a delegate
    property: a manager that dispatches through the instance keeps the hook, and callers of the
    delegating method are not reported either; one that reads private state loses it."""
    old = """
    class Instance:
        def get_record(self, run_id):
            return self._runs.get(run_id)
        def get_run(self, run_id):
            return self.get_record(run_id)
        def launch_run(self, run_id):
            return self.get_run(run_id)
    """
    manager = """
    class _Manager:
        def __init__(self, instance):
            self._instance = instance
        def get_run(self, run_id):
            return self._lookup(run_id)
        def _lookup(self, run_id):
            return {lookup}
    class Instance:
        def get_record(self, run_id):
            return self._runs.get(run_id)
        def get_run(self, run_id):
            mgr = _Manager(self)
            return mgr.get_run(run_id)
        def launch_run(self, run_id):
            return self.get_run(run_id)
    """
    dispatching = manager.format(lookup="self._instance.get_record(run_id)")
    assert surface_of(dispatching).members["get_run"].delegates == ["pkg.mod._Manager.get_run"]
    assert findings(old, dispatching) == []
    bypassing = manager.format(lookup="self._instance._runs.get(run_id)")
    hits = findings(old, bypassing)
    assert sorted((f.rule, f.member) for f in hits) == [
        ("hook-no-longer-called", "get_run"), ("hook-no-longer-called", "launch_run")]


def test_findings_are_sorted_and_deterministic():
    r = RULES["parameter-removed"]
    a = compare_surfaces(surface_of(r.example_old), surface_of(r.example_new))
    b = compare_surfaces(surface_of(r.example_old), surface_of(r.example_new))
    assert [f.to_dict() for f in a] == [f.to_dict() for f in b]
    assert a == sorted(a, key=lambda f: f.sort_key())


def test_rule_selection_and_unknown_rule():
    r = RULES["parameter-removed"]
    only = compare_surfaces(surface_of(r.example_old), surface_of(r.example_new), rules=["parameter-removed"])
    assert {f.rule for f in only} == {"parameter-removed"}
    with pytest.raises(CompatError, match="unknown rule"):
        compare_surfaces(surface_of(r.example_old), surface_of(r.example_new), rules=["no-such-rule"])


# --------------------------------------------------------------------------- hand-built surfaces


def _surface(members: dict[str, Member], *, imports=None, exports=None) -> Surface:
    return Surface(
        target="m:C",
        cls=ClassInfo(path="m.C", module="m", qualname="C", location="m.py:1", bases=[], mro=["m.C"]),
        members=members,
        import_paths=imports or [],
        exports=exports or {},
    )


def _method(name: str, *params: Parameter, **kw) -> Member:
    sig = Signature([Parameter("self", POSITIONAL_OR_KEYWORD), *params])
    return Member(name=name, kind=METHOD, visibility=PUBLIC, defined_in="m.C", location="m.py:2", signature=sig, **kw)


def test_hand_built_surfaces_without_extractor():
    old = _surface({"f": _method("f", Parameter("a", KEYWORD_ONLY, annotation="Optional[int]", annotation_norm="None | int"))})
    new = _surface({"f": _method("f", Parameter("a", KEYWORD_ONLY, annotation="int | None", annotation_norm="None | int"))})
    assert compare_surfaces(old, new) == []
    new2 = _surface({"f": _method("f", Parameter("a", KEYWORD_ONLY, annotation="str", annotation_norm="str"))})
    assert [f.rule for f in compare_surfaces(old, new2)] == ["parameter-annotation-changed"]


def test_import_path_not_probed_by_new_snapshot_is_no_verdict():
    old = _surface({}, imports=[ImportPath("elsewhere.C", "m.C")])
    new = _surface({}, imports=[])
    assert compare_surfaces(old, new) == []
    new_probed = _surface({}, imports=[ImportPath("elsewhere.C", None)])
    assert [f.rule for f in compare_surfaces(old, new_probed)] == ["import-path-removed"]


# --------------------------------------------------------------------------- docs


def test_docs_rules_md_is_generated_from_the_catalogue():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_rules_markdown(), "docs/rules.md is stale: run `python -m compat.catalogue.docs --write`"


def test_docs_mention_every_rule_and_its_fix():
    text = render_rules_markdown()
    for rule_id, r in RULES.items():
        assert f"`{rule_id}`" in text
        assert f"**Fix.** {r.fix}" in text


# --------------------------------------------------------------------------- random signatures

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from compat.model.surface import POSITIONAL_ONLY, VAR_KEYWORD, VAR_POSITIONAL  # noqa: E402

_NAMES = st.sampled_from(["a", "b", "c", "run_id", "limit", "cursor"])
_ANNOTATIONS = st.sampled_from([None, ("Optional[int]", "None | int"), ("int | None", "None | int"), ("str", "str")])
_DEFAULTS = st.sampled_from([None, "None", "1", "'x'"])


@st.composite
def signatures(draw) -> Signature:
    names = draw(st.lists(_NAMES, unique=True, max_size=5))
    kinds = sorted(draw(st.lists(st.sampled_from([POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, KEYWORD_ONLY]),
                                 min_size=len(names), max_size=len(names))),
                   key=[POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, KEYWORD_ONLY].index)
    params = [Parameter("self", POSITIONAL_ONLY if POSITIONAL_ONLY in kinds else POSITIONAL_OR_KEYWORD)]
    seen_default = False
    for name, kind in zip(names, kinds):
        default = draw(_DEFAULTS)
        if kind != KEYWORD_ONLY and seen_default and default is None:
            default = "None"  # Python requires defaults after the first positional default
        seen_default = seen_default or (default is not None and kind != KEYWORD_ONLY)
        ann = draw(_ANNOTATIONS)
        params.append(Parameter(name, kind, default, ann[0] if ann else None, ann[1] if ann else None))
    if draw(st.booleans()):
        params.insert(len([p for p in params if p.kind != KEYWORD_ONLY]), Parameter("args", VAR_POSITIONAL))
    if draw(st.booleans()):
        params.append(Parameter("kwargs", VAR_KEYWORD))
    return Signature(params)


def _with(sig: Signature) -> Surface:
    member = Member(name="f", kind=METHOD, visibility=PUBLIC, defined_in="m.C", location="m.py:2", signature=sig)
    return _surface({"f": member})


@settings(max_examples=200, deadline=None)
@given(signatures(), signatures())
def test_random_signature_pairs(old_sig, new_sig):
    old, new = _with(old_sig), _with(new_sig)
    assert compare_surfaces(old, old) == []
    found = compare_surfaces(old, new)
    assert all(f.rule in RULES and f.severity == RULES[f.rule].severity for f in found)
    assert [f.to_dict() for f in found] == [f.to_dict() for f in compare_surfaces(old, new)]
    # a renaming of annotations to another spelling of the same type is never a finding
    respelled = Signature([
        Parameter(p.name, p.kind, p.default, "Optional[int]" if p.annotation_norm == "None | int" else p.annotation,
                  p.annotation_norm)
        for p in old_sig.parameters
    ])
    assert compare_surfaces(old, _with(respelled)) == []
    # a parameter callers could pass by name that disappears (with no **kwargs to catch it) is
    # always breaking; positional-only names are nobody's business
    names_old = {p.name for p in old_sig.parameters if p.kind in (POSITIONAL_OR_KEYWORD, KEYWORD_ONLY)}
    names_new = {p.name for p in new_sig.parameters}
    if names_old - names_new and not any(p.kind == VAR_KEYWORD for p in new_sig.parameters):
        assert any(f.severity == "breaking" for f in found)


def test_class_moved_under_a_new_target_gives_no_verdict_on_unprobed_paths():
    old = surface_of(MOVED_OLD)
    new = from_sources(
        {"pkg/__init__.py": "from pkg.instance import Instance\n", "pkg/instance.py": "class Instance:\n    def f(self): ...\n"},
        "pkg.instance:Instance",
    )
    found = compare_surfaces(old, new)
    moved = [f for f in found if f.rule == "class-moved"]
    assert len(moved) == 1 and moved[0].details == {"old_path_resolves": None}
    assert "did not probe" in moved[0].message
    assert not [f for f in found if f.rule in ("import-path-removed", "member-moved")]

"""The one rule registry: every rule of every layer fires on its fixture, stays quiet on its
near miss, and no finding anywhere carries an id the registry does not know.

Fixtures run through each layer's real machinery (``compat.catalogue.fixtures``): surfaces extracted
and compared, a toy subclass profiled and checked, traces compared, a stored program's results
compared, accepted entries matched, griffe run on toy classes. Every rule keeps its near miss in
its entry; tests/test_rules.py adds further close changes for some surface rules.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import griffe
import pytest

from compat.gate import accepted
from compat.static import griffe_compare
from compat.model import jsonio
from compat.static.diff import compare_surfaces
from compat.model.errors import CompatError
from compat.model.findings import AUDIENCES, SEVERITIES
from compat.catalogue import RULES, all_rules, register
from compat.catalogue.fixtures import findings_of
from compat.rules.registry import LAYER_FAMILIES, LAYERS, SURFACE, Fixture
from compat.static.extract import from_sources

ROOT = Path(__file__).resolve().parents[1]
WITH_NEAR_MISS = sorted(RULES)


@functools.lru_cache(maxsize=None)
def fired(rule_id: str) -> tuple:
    return tuple(findings_of(RULES[rule_id]))


@functools.lru_cache(maxsize=None)
def near(rule_id: str) -> tuple:
    r = RULES[rule_id]
    return tuple(findings_of(r, r.near_miss))


# --------------------------------------------------------------------------- the catalogue


def test_every_layer_has_rules_and_the_counts_are_known():
    counts = {layer: len(all_rules(layer)) for layer in LAYERS}
    assert counts == {"surface": 48, "profile": 12, "behaviour": 9, "fuzz": 1, "baseline": 1, "griffe": 10}
    assert sum(counts.values()) == len(RULES) == len(all_rules())


def test_entries_are_complete():
    for r in RULES.values():
        assert r.layer in LAYERS and r.family in LAYER_FAMILIES[r.layer], r.id
        assert r.severity in SEVERITIES and r.audience in AUDIENCES, r.id
        assert r.summary and r.explanation and r.fix, r.id
        assert "\n" not in r.fix and "\n" not in r.summary, r.id
        assert r.fixture.old is not None and r.fixture.new is not None, r.id
        assert (r.check is not None) == (r.layer in ("surface", "profile")), r.id
        if r.layer == "profile":
            assert r.fixture.subclass, r.id


def test_all_rules_is_in_catalogue_order():
    ordered = all_rules()
    assert [r.layer for r in ordered] == sorted((r.layer for r in ordered), key=LAYERS.index)
    assert all_rules("fuzz") == [RULES["fuzz-mismatch"]]
    with pytest.raises(ValueError):
        all_rules("nowhere")


def test_registration_rejects_what_docs_and_findings_could_not_carry():
    good = dict(id="x-new-rule", severity="warning", audience="subclasses", layer="behaviour", family="replay",
                summary="s", explanation="e", fix="f", fixture=Fixture({}, {}))
    bad = [
        {"id": "fuzz-mismatch"},  # registered twice
        {"id": "Not_Kebab"},
        {"severity": "fatal"},
        {"audience": "everyone"},
        {"layer": "runtime"},
        {"family": "members"},  # a surface family on the behaviour layer
        {"fix": "  "},
        {"explanation": ""},
    ]
    for change in bad:
        with pytest.raises(ValueError):
            register(**{**good, **change})
    assert "x-new-rule" not in RULES


# --------------------------------------------------------------------------- fixtures fire, near misses do not


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_fixture_fires_its_rule_with_the_registered_metadata(rule_id):
    r = RULES[rule_id]
    found = [f for f in fired(rule_id) if f.rule == rule_id]
    assert found, f"{rule_id} does not fire on its own fixture; got {sorted({f.rule for f in fired(rule_id)})}"
    for f in found:
        assert f.source == r.layer
        assert f.member and f.message
        assert f.severity == r.severity or r.severity_note, (rule_id, f.severity)
        assert f.audience == r.audience or r.audience_note, (rule_id, f.audience)


@pytest.mark.parametrize("rule_id", WITH_NEAR_MISS)
def test_near_miss_does_not_fire(rule_id):
    r = RULES[rule_id]
    assert r.near_miss is not None and r.near_miss.about, f"{rule_id} has no near miss"
    assert r.near_miss != r.fixture
    hits = [f for f in near(rule_id) if f.rule == rule_id]
    assert not hits, "\n".join(f"{f.rule} {f.member}: {f.message}" for f in hits)


def test_every_finding_the_fixtures_produce_is_registered_and_of_its_layer():
    produced = [(RULES[rid].layer, f) for rid in RULES for f in fired(rid)]
    produced += [(RULES[rid].layer, f) for rid in WITH_NEAR_MISS for f in near(rid)]
    unknown = sorted({f.rule for _, f in produced if f.rule not in RULES})
    assert unknown == [], f"findings with unregistered rule ids: {unknown}"
    for layer, f in produced:
        assert RULES[f.rule].layer == layer == f.source, (f.rule, layer, f.source)


def test_real_surfaces_only_produce_registered_surface_rules():
    """The shipped baselines' surfaces (dagster 1.11.4 and the pinned release), compared both
    ways: every id is a registered surface rule with its registered severity (or one its
    severity note allows)."""
    from compat.static.extract import read_surface

    old = read_surface(ROOT / "snapshots" / "baseline-1.11.4" / "surface.json")
    new = read_surface(ROOT / "snapshots" / "baseline" / "surface.json")
    found = compare_surfaces(old, new) + compare_surfaces(new, old)
    assert found
    assert all(f.rule in RULES and RULES[f.rule].layer == SURFACE
               and (f.severity == RULES[f.rule].severity or RULES[f.rule].severity_note) for f in found)


def test_comparing_surfaces_refuses_rules_of_other_layers():
    s = from_sources({"pkg/__init__.py": "", "pkg/mod.py": "class Instance: ...\n"}, "pkg.mod:Instance")
    with pytest.raises(CompatError, match="not surface rules.*fuzz-mismatch \\(fuzz\\)"):
        compare_surfaces(s, s, rules=["fuzz-mismatch"])
    with pytest.raises(CompatError, match="unknown rule"):
        compare_surfaces(s, s, rules=["no-such-rule"])


# --------------------------------------------------------------------------- no id outside the registry


def _registration(node: ast.Call) -> bool:
    fn = node.func
    name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
    return name in ("register", "rule", "profile_rule", "_griffe_rule")


ALLOWED: set[tuple[str, str]] = set()  # no module may name a rule id by string


def test_rule_ids_appear_in_code_only_where_rules_are_registered():
    """A string literal equal to a rule id, outside the call registering a rule (and outside
    docstrings), is a finding site or a check that bypasses the registry."""
    stray = []
    for path in sorted((ROOT / "compat").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside: set[int] = set()
        docstrings: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _registration(node):
                inside.update(id(n) for n in ast.walk(node))
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    docstrings.add(id(first.value))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in RULES
                    and id(node) not in inside and id(node) not in docstrings and (rel, node.value) not in ALLOWED):
                stray.append(f"{rel}:{node.lineno}: {node.value!r}")
    assert stray == [], "\n".join(stray)


# --------------------------------------------------------------------------- layer specifics


def test_every_griffe_breakage_kind_has_a_rule_named_after_it():
    assert set(griffe_compare.RULES_BY_KIND) | griffe_compare.UNREPORTED_KINDS == set(griffe.BreakageKind)
    assert not set(griffe_compare.RULES_BY_KIND) & griffe_compare.UNREPORTED_KINDS
    for kind, r in griffe_compare.RULES_BY_KIND.items():
        assert r.id == griffe_compare.GRIFFE_PREFIX + griffe_compare._slug(kind.value)
        assert (r.layer, r.severity, r.audience) == ("griffe", "breaking", "callers")


def test_accepted_entries_must_name_a_registered_rule(tmp_path):
    accepted.save(tmp_path, [accepted.Accepted("parameter-renamed", "add_run_tags", "reviewed")])
    assert [e.rule for e in accepted.load(tmp_path)] == ["parameter-renamed"]
    data = jsonio.read_json(tmp_path / accepted.FILENAME, schema=accepted.SCHEMA, versions=(accepted.VERSION,))
    data["accepted"][0]["rule"] = "parameter-renamd"
    jsonio.write_json(tmp_path / accepted.FILENAME, data)
    with pytest.raises(CompatError) as exc:
        accepted.load(tmp_path)
    assert "parameter-renamd" in str(exc.value) and "\n" not in str(exc.value)


def test_profile_findings_take_a_lowered_severity_only_where_documented():
    lowered = {r.id for r in all_rules("profile") if r.severity_note}
    assert lowered == {"override-target-removed", "override-bypassed", "override-signature-incompatible",
                       "base-attribute-missing", "subclass-name-clash"}

"""Generated mutants (compat/tools/mutants.py) and the mutation score (`compat mutate --generated`).

The operators are checked on a small module written for them (each one's edit, exactly, and each
equivalence heuristic), then on the pinned dagster: the same tree gives the same mutants with the
same ids, every edit parses and changes one file of a linked copy, never the installed one. A
fixed handful of generated mutants with a known outcome runs through the gate (the plain spy's
cells of the scenarios that reach the edit, as tests/test_mutation.py does for the known edits).
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_mutation import SHIPPED, _narrowed, spy_baseline  # noqa: F401 (a fixture)
from trees import write_tree

from compat.tools import mutants, mutate

SAMPLE = '''\
import logging
from typing import TYPE_CHECKING, Sequence

logger = logging.getLogger(__name__)


class Store:
    def get_items(self, key: str, limit: int = 10) -> Sequence[str]:
        """Rows of a key."""
        if not key:
            raise KeyError(key)
        rows = self._storage.get_rows(key, limit=limit, ascending=False)
        self._seen[key] = {"a": 1, "b": 2}
        if key in ["x", "y"]:
            logger.info("special key")
        pair = (key, limit)
        return sorted(rows)

    def empty(self) -> Sequence[str]:
        return []

    def settings(self) -> int:
        return self._settings.get("retries", 0)

    def gone(self) -> None:
        return None
        self._storage.wipe()
'''


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> tuple[Path, list[mutants.Mutant]]:
    root = tmp_path_factory.mktemp("toy")
    write_tree(root, {"dagster/__init__.py": "", "dagster/_core/__init__.py": "",
                      "dagster/_core/instance/__init__.py": "", "dagster/_core/instance/store.py": SAMPLE})
    return root, mutants.generate(root)


def _at(found: list[mutants.Mutant], operator: str, line: int) -> list[mutants.Mutant]:
    return [m for m in found if m.operator == operator and m.line == line]


def test_every_operator_makes_its_edit_at_its_place(toy):
    root, found = toy
    assert {m.operator for m in found} == set(mutants.OPERATORS)
    assert [(m.new, m.variant) for m in _at(found, "drop-forwarded-arg", 12)] == [
        ("self._storage.get_rows(limit=limit, ascending=False)", 0), ("self._storage.get_rows(key, ascending=False)", 1)]
    assert _at(found, "drop-forwarded-arg", 12)[1].id == "store.py:12:15:drop-forwarded-arg#2"
    assert _at(found, "keyword-changed", 12)[0].new == "True"
    assert _at(found, "dict-order", 13)[0].new == '{"b": 2, "a": 1}'
    assert {m.new for m in _at(found, "list-to-tuple", 14)} == {'("x", "y")'}
    assert {m.new for m in _at(found, "list-to-set", 14)} == {'{"x", "y"}'}
    assert _at(found, "tuple-to-list", 16)[0].new == "[key, limit]"
    assert _at(found, "negate-condition", 10)[0].new == "not (not key)"
    assert _at(found, "exception-class", 11)[0].new == "RuntimeError"
    assert {m.new for m in _at(found, "order-reversed", 17)} == {"(sorted(rows))[::-1]", "sorted(rows, reverse=True)"}
    assert {m.new for m in _at(found, "default-changed", 8)} == {"11"}
    assert _at(found, "default-changed", 23)[0].new == "1"
    assert _at(found, "early-return", 10)[0].new == "return None\n        "
    # not before a `return None`, where it would change nothing
    assert {m.line for m in found if m.operator == "early-return"} == {10, 20, 23}
    warn = _at(found, "warning-added", 10)[0]
    assert "DeprecationWarning" in warn.new and "Store.get_items" in warn.new
    assert {m.line for m in found if m.operator == "delete-statement"} == {11, 12, 13, 15, 16, 27}
    # docstrings, annotations and the TYPE_CHECKING import are never edited
    assert not [m for m in found if m.line in (2, 9)]
    source = (root / "dagster/_core/instance/store.py").read_bytes()
    for m in found:
        edited = m.apply_to(source)
        assert ast.dump(ast.parse(edited)) != ast.dump(ast.parse(source)), m.id


def test_equivalence_heuristics_are_explicit_and_narrow(toy):
    _, found = toy
    equivalent = {(m.operator, m.line): m.equivalent for m in found if m.equivalent}
    assert equivalent == {
        ("list-to-tuple", 14): "membership-only",
        ("list-to-set", 14): "membership-only",
        ("delete-statement", 15): "log-only",
        ("order-reversed", 20): "at-most-one-item",
        ("delete-statement", 27): "dead-code",
    }
    assert set(equivalent.values()) <= set(mutants.EQUIVALENCE)
    # a reorder that a caller sees is not excused
    assert _at(found, "dict-order", 13)[0].equivalent is None


CALLEES = '''\
def pluck(config, path):
    value = config
    for part in path:
        value = value.get(part)
    return value


def keeps(config, path):
    config["path"] = path
    return [p for p in path]


def read(config):
    return pluck(config, ["a", "b"]), keeps(config, ["a", "b"])
'''


def test_a_literal_only_iterated_by_the_function_it_is_passed_to_is_judged_equivalent(tmp_path):
    write_tree(tmp_path, {"dagster/__init__.py": "", "dagster/_core/__init__.py": "",
                          "dagster/_core/instance/__init__.py": "", "dagster/_core/instance/config.py": CALLEES})
    judged = sorted((m.col, m.equivalent) for m in mutants.generate(tmp_path)
                    if m.operator == "list-to-tuple" and m.line == 14)
    # pluck only loops over its path; keeps stores it, where a caller may see its type
    assert judged == [(25, "iterated-by-callee"), (52, None)]


MIXINS = {
    "dagster/_core/instance/mixins.py": '''\
import yaml


class Settings:
    def get_settings(self, key):
        raise NotImplementedError

    def retries(self):
        return self.get_settings("retries")

    def dispose(self):
        self._closed = True


class Called:
    def get_settings(self, key):
        raise NotImplementedError


class Shared:
    def get_settings(self, key):
        raise NotImplementedError
''',
    "dagster/_core/instance/instance.py": '''\
import json

import yaml

from dagster._core.instance.mixins import Called, Settings, Shared


class DagsterInstance(Settings, Called, Shared):
    def get_settings(self, key):
        return self._settings.get(key)

    def dispose(self):
        super().dispose()

    def config_yaml(self):
        Called.get_settings(self, "x")
        return yaml.dump({"b": {"y": 1, "x": 2}, "a": 1}), yaml.dump({"b": 1, "a": 2}, sort_keys=False)

    def config_json(self):
        return json.dumps({"b": 1, "a": 2}, sort_keys=True), json.dumps({"b": 1, "a": 2}), {"b": 1, "a": 2}
''',
    "dagster/_other.py": '''\
from dagster._core.instance.mixins import Shared


class Elsewhere(Shared):
    pass
''',
}


def test_shadowed_members_and_sorted_dumps_are_judged_equivalent(tmp_path):
    write_tree(tmp_path, {"dagster/__init__.py": "", "dagster/_core/__init__.py": "",
                          "dagster/_core/instance/__init__.py": "", **MIXINS})
    # hidden by DagsterInstance.get_settings; dispose is not (the target calls super()), nor is a
    # base whose member is called by name, nor a base another class of dagster derives from
    assert mutants.shadowed_members(tmp_path) == {"Settings.get_settings": "DagsterInstance"}
    found = mutants.generate(tmp_path)
    by_place = {(m.path.rpartition("/")[2], m.line, m.operator): m.equivalent for m in found}
    assert by_place[("mixins.py", 6, "exception-class")] == "shadowed"
    assert by_place[("mixins.py", 9, "early-return")] is None  # retries: nothing hides it
    assert by_place[("mixins.py", 12, "delete-statement")] is None  # dispose: reached by super()
    assert by_place[("mixins.py", 17, "exception-class")] is None  # Called.get_settings is called
    assert by_place[("mixins.py", 22, "exception-class")] is None  # Shared has another subclass
    dicts = sorted((m.line, m.col, m.equivalent) for m in found if m.operator == "dict-order")
    assert dicts == [(17, 25, "sorted-keys-dump"), (17, 31, "sorted-keys-dump"), (17, 69, None),
                     (20, 26, "sorted-keys-dump"), (20, 72, None), (20, 91, None)]


def test_the_report_tells_a_survivor_seen_as_a_warning_from_one_nothing_saw(toy):
    _, found = toy
    a, b, c = [m for m in found if not m.equivalent and m.operator == "delete-statement"][:3]
    replayed = {"cells_replayed": 3, "programs_replayed": 0, "cells_total": 9, "programs_total": 0}
    results = [mutate.Scored(a, mutate.SURVIVED, replay=replayed, seen=["behaviour:behaviour-exception-message-changed"]),
               mutate.Scored(b, mutate.SURVIVED, replay=replayed),
               mutate.Scored(c, mutate.KILLED, rules=["behaviour:behaviour-result-changed"], replay=replayed)]
    report = mutate.ScoreReport("dagster", "base", len(found), list(mutants.OPERATORS), None, 0, results)
    text = report.render()
    assert "- survivors seen but judged a warning: 1; not executed by any recorded cell: 0; executed but no " \
           "trace differed: 1" in text
    seen_part = text.split("## Survivors: seen, but judged a warning by the severity policy (1)")[1]
    assert seen_part.split("##")[0].count(f"(id `{a.id}`)") == 1 and "behaviour-exception-message-changed" in seen_part
    assert "seen, but judged a warning" in results[0].why and "no trace differed" in results[1].why
    assert report.as_dict()["results"][0]["seen"] == ["behaviour:behaviour-exception-message-changed"]
    assert f"{100 * 1 / 3:.1f}%" in text


@pytest.fixture(scope="module")
def pinned() -> list[mutants.Mutant]:
    return mutants.generate(mutate.dagster_root())


def test_the_same_dagster_gives_the_same_mutants_with_the_same_ids(pinned):
    assert len(pinned) >= 300  # "a few hundred" at least
    assert {m.operator for m in pinned} == set(mutants.OPERATORS)
    ids = [m.id for m in pinned]
    assert len(set(ids)) == len(ids)
    assert all(m.path.startswith("dagster/_core/instance/") for m in pinned)
    with mutate.Pristine() as pristine:  # another copy of the same files: the same list
        again = mutants.generate(pristine.path)
    assert [m.as_dict() for m in again] == [m.as_dict() for m in pinned]


def test_sample_is_seeded_and_in_generation_order(pinned):
    a, b = mutants.sample(pinned, 12, 1), mutants.sample(pinned, 12, 1)
    assert a == b and len(a) == 12 and mutants.sample(pinned, 12, 2) != a
    assert [pinned.index(m) for m in a] == sorted(pinned.index(m) for m in a)
    assert mutants.by_ids(pinned, [a[3].id]) == [a[3]]


def test_a_mutant_tree_edits_one_file_and_never_the_installed_one(pinned, tmp_path):
    installed = mutate.dagster_root()
    picked = mutants.sample(pinned, 20, 35)
    before = {m.path: hashlib.sha256((installed / m.path).read_bytes()).hexdigest() for m in picked}
    with mutate.Pristine() as pristine:
        for i, m in enumerate(picked):
            root = mutate.apply(mutate.GeneratedMutation(m), tmp_path / str(i), pristine=pristine)
            edited = (root / m.path).read_bytes()
            assert edited == m.apply_to((installed / m.path).read_bytes())
            ast.parse(edited)
            assert (root / m.path).stat().st_ino != (pristine.path / m.path).stat().st_ino
            other = root / "dagster/_core/instance/__init__.py"
            assert other.read_bytes() == (installed / "dagster/_core/instance/__init__.py").read_bytes()
    assert before == {m.path: hashlib.sha256((installed / m.path).read_bytes()).hexdigest() for m in picked}


# a fixed handful with a known outcome, each with the scenarios whose plain-spy cells reach it
FIXED = {
    # get_backfills_count returns None: the backfills scenario reads the count
    "methods/scheduling_methods.py:326:8:early-return": (mutate.KILLED, ["backfills_crud"]),
    # get_dynamic_partitions returns the keys newest first
    "instance.py:636:15:order-reversed": (mutate.KILLED, ["partitions_dynamic"]),
    # a config field's description: start-up code, so every cell of the scenario replays
    "config.py:366:28:keyword-changed": (mutate.EQUIVALENT, ["configuration_defaults"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("mutant_id", FIXED)
def test_fixed_sample_through_the_gate(mutant_id, pinned, spy_baseline, tmp_path):  # noqa: F811
    verdict, scenarios = FIXED[mutant_id]
    (m,) = mutants.by_ids(pinned, [mutant_id])
    baseline = _narrowed(spy_baseline, scenarios, tmp_path / "baseline")
    with mutate.Pristine() as pristine:
        scored = mutate.score_one(m, baseline, pristine=pristine)
    assert scored.verdict == verdict, (scored.as_dict(), scored.why)
    assert scored.reached, "the edit must be replayed, not pass unseen"
    if verdict == mutate.KILLED:
        assert any(r.startswith("behaviour:") for r in scored.rules)
    report = mutate.ScoreReport("dagster", str(baseline), len(pinned), list(mutants.OPERATORS), 1, 0, [scored])
    text = report.render()
    assert m.operator in text and (m.where in text or verdict == mutate.KILLED)
    assert report.as_dict()["counts"][verdict] == 1


# survivors of the seeded sample (seed 35) that were real misses, each with the scenario added or
# extended to see it: CI checks that they stay killed. The baseline is the plain spy's cells of
# that scenario recorded here on the installed dagster, so the check holds between re-recordings
# of the shipped baseline.
FIXED_MISSES = {
    # __init__ no longer refuses a missing compute log manager without a ref
    "instance.py:180:12:delete-statement": "configuration_refusals",
    # create_run_for_job no longer passes resolved_op_selection on to the run
    "methods/run_methods.py:129:15:drop-forwarded-arg#5": "arguments_non_default",
    # the caching loader reverses a set: a TypeError no cell reached
    "types.py:200:15:order-reversed": "arguments_non_default",
    # create_reexecuted_run warns on entry: no cell called it
    "methods/run_methods.py:202:8:warning-added": "runs_rarely_called",
    # a mysql storage's config written in YAML flow style (1.11.4's sample survivor ref.py:109)
    "ref.py:114:74:keyword-changed": "configuration_refs",
    # a retry from failure no longer tagged as one (1.11.4's sample survivor __init__.py:1877)
    "runs/run_domain.py:516:12:delete-statement": "runs_reexecution_from_location",
    # submit_run no longer refuses a run without a remote origin (1.11.4's __init__.py:2980)
    "methods/run_launcher_methods.py:68:8:delete-statement": "runs_reexecution_from_location",
    # survivors of the seed-41 sample: the tag keys reversed (the scenario sorted them)
    "methods/run_methods.py:103:15:order-reversed": "runs_lifecycle",
    # the store after requests pages without the partitions definition's name (not executed)
    "types.py:264:25:drop-forwarded-arg": "partitions_loader_and_requests",
    # InstanceRef.event_storage negated (not executed)
    "ref.py:540:15:negate-condition": "configuration_refs",
    # a dynamic run's key ranges as a tuple: the created run no longer equals the stored one
    "runs/run_domain.py:419:35:list-to-tuple": "runs_construction_paths",
    # survivors of the seed-43 sample: the asset keys reversed (the scenario sorted them)
    "methods/asset_methods.py:94:15:order-reversed": "assets_materializations",
    # a failed blocking check no longer sends its asset back to a retry from asset failure
    "runs/run_domain.py:743:19:negate-condition": "runs_reexecution_strategies",
}


@pytest.fixture(scope="module")
def recorded_spy(tmp_path_factory) -> dict[str, Path]:
    """Per scenario of FIXED_MISSES, a baseline of the shipped one's surface and profiles with the
    plain spy's cells of that scenario recorded now (no reach map: every cell replays)."""
    from compat.behaviour import replay
    from compat.model import jsonio

    out: dict[str, Path] = {}
    for scenario in sorted(set(FIXED_MISSES.values())):
        dest = tmp_path_factory.mktemp("recorded") / scenario
        shutil.copytree(SHIPPED, dest, ignore=lambda d, names: [
            n for n in names if d.endswith(("traces", "fuzz")) or n == "reach.json"])
        paths = replay.record(sys.executable, str(dest), ["spy"], [scenario])
        manifest = jsonio.read_json(dest / "manifest.json", schema="compat.baseline", versions=(1,))
        manifest["cells"], manifest["fuzz_programs"] = len(paths), 0
        manifest["selection"] = {"subclasses": ["spy"], "scenarios": [scenario]}
        jsonio.write_json(dest / "manifest.json", manifest)
        out[scenario] = dest
    return out


@pytest.mark.slow
@pytest.mark.parametrize("mutant_id", FIXED_MISSES)
def test_real_misses_of_the_sample_stay_killed(mutant_id, pinned, recorded_spy):
    (m,) = mutants.by_ids(pinned, [mutant_id])
    assert not m.equivalent
    with mutate.Pristine() as pristine:
        scored = mutate.score_one(m, recorded_spy[FIXED_MISSES[mutant_id]], pristine=pristine)
    assert scored.verdict == mutate.KILLED, (scored.as_dict(), scored.why)
    assert any(r.startswith("behaviour:") for r in scored.rules)


def test_a_replay_that_stops_at_the_first_failure_reaches_every_scenario_early():
    cells = [f"{sub}__{sc}__{st}" for sub in ("spy", "spy-other") for sc in ("a_scenario", "b_scenario")
             for st in ("memory", "sqlite")] + ["spy__only_spy__sqlite"]
    spread = mutate.spread_by_scenario(cells)
    assert sorted(spread) == sorted(cells)
    # each scenario's first cell, in the recorded order, then the second cells, ...
    assert spread[:3] == ["spy__a_scenario__memory", "spy__b_scenario__memory", "spy__only_spy__sqlite"]
    assert spread[3:5] == ["spy__a_scenario__sqlite", "spy__b_scenario__sqlite"]
    assert mutate.spread_by_scenario([]) == []


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compat", "mutate", *args], capture_output=True, text=True)


def test_bad_options_are_one_line_errors():
    for args in (["--generated", "--operators", "no-such-operator"], ["--sample", "3"],
                 ["--generated", "--only", "instance.py:1:0:nothing"], ["--generated", "--sample", "0"]):
        proc = _cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_a_mutant_of_another_interpreter_is_compared_on_every_hashed_package(tmp_path):
    """The reach map compares dagster, dagster-shared and dagster-pipes: the mutant's paths hold
    dagster from its tree and the other two from the side's environment (a released side's
    static path is its dagster wheel alone: the other two read as removed, and every cell of
    every mutant replayed)."""
    from compat import sides
    from compat.behaviour import reach

    root = tmp_path / "site"
    write_tree(root, {"dagster/__init__.py": "", "dagster/_core/__init__.py": ""})
    side = sides.from_options(python=sys.executable, dagster_version=None)
    for chosen in (None, side):
        paths = mutate.replay_search_paths(root, chosen)
        assert paths[0] == str(root)
        files = reach.package_files(paths)
        assert files["dagster/__init__.py"] == root / "dagster/__init__.py"
        assert any(rel.startswith("dagster_pipes/") for rel in files)
        assert any(rel.startswith("dagster_shared/") for rel in files)


@pytest.mark.slow
def test_a_mutant_of_a_release_is_compared_on_its_environments_packages(tmp_path):
    from compat import sides
    from compat.behaviour import reach

    root = tmp_path / "site"
    write_tree(root, {"dagster/__init__.py": ""})
    side = sides.from_options(dagster_version="1.11.4")
    assert not any(rel.startswith("dagster_pipes/") for rel in reach.package_files(side.search_paths))
    files = reach.package_files(mutate.replay_search_paths(root, side))
    assert files["dagster/__init__.py"] == root / "dagster/__init__.py"
    assert any(rel.startswith("dagster_pipes/") for rel in files) and any(
        rel.startswith("dagster_shared/") for rel in files)

"""Change-aware replay (compat/behaviour/reach.py): what is hashed, what is selected, and the
soundness check: on the mutation self-check's mutants it gives the verdicts a full replay gives.

A small baseline is recorded here (the plain spy on in-memory storage, on the scenarios the
mutants reach, plus a few they do not), with its reach map, against the installed dagster.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from compat import sides
from compat.behaviour import reach
from compat.behaviour import selection as selection_mod
from compat.behaviour import replay as behaviour_mod
from compat.model import jsonio
from compat.baseline import Baseline, file_digests
from compat.model.errors import CompatError
from compat.tools import mutate

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "snapshots" / "baseline"
SCENARIOS = ["runs_lifecycle", "storage_wipe", "backfills_crud", "sensors_instigator_state", "monitoring_heartbeats",
             "partitions_dynamic", "configuration_defaults", "configuration_custom", "errors_runs",
             "errors_schedules_backfills", "snapshots_job_and_plan"]


def test_a_body_edit_changes_the_function_hash_and_not_the_skeleton():
    old = reach.index_module("class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n")
    body = reach.index_module("class A:\n    def f(self):\n        return 3\n\n    def g(self):\n        return 2\n")
    added = reach.index_module("class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n\n"
                               "    def h(self):\n        pass\n")
    assert body.skeleton == old.skeleton
    assert body.functions["A.f"] != old.functions["A.f"] and body.functions["A.g"] == old.functions["A.g"]
    assert added.skeleton != old.skeleton  # a new member can change what a lookup resolves to
    assert old.function_at(3) == "A.f" and old.function_at(1) is None


def test_shadowing_a_global_and_caching_decorators_are_seen():
    old = reach.index_module("import os\n\ndef f():\n    return os.sep\n")
    shadow = reach.index_module("import os\n\ndef os_sep():\n    return 1\n\nos = None\n\ndef f():\n    return os.sep\n")
    assert shadow.skeleton != old.skeleton
    cached = reach.index_module("import functools\n\n@functools.cache\ndef f():\n    return 1\n\n"
                                "def g():\n    global X\n    X = 1\n\ndef h():\n    return 2\n")
    assert cached.stateful == {"f", "g"}


def test_a_signature_edit_keeps_the_frame_and_names_the_definition():
    src = ("class A:\n    def f(self, run_id: str | None = None) -> int:\n        return 1\n\n"
           "    @property\n    def g(self):\n        return 2\n\n    def __init__(self, x):\n        pass\n")
    old = reach.index_module(src)
    renamed = reach.index_module(src.replace("run_id: str | None = None", "the_id: str | None = None"))
    assert renamed.skeleton != old.skeleton and renamed.frame == old.frame
    assert [n for (n, a, _), (_, b, _) in zip(old.definitions, renamed.definitions) if a != b] == ["A.f"]
    assert dict((n, ok) for n, _, ok in old.definitions) == {"A.f": True, "A.g": True, "A.__init__": False}
    # a default that runs code at import, a decorator, a definition added: the frame changes
    assert reach.index_module(src.replace("= None", "= make()")).frame != old.frame
    assert reach.index_module(src.replace("    @property\n", "    @cached\n")).frame != old.frame
    assert reach.index_module(src + "\n    def h(self):\n        pass\n").frame != old.frame
    decorated = reach.index_module("@record\nclass A:\n    def f(self, x):\n        return 1\n")
    assert decorated.definitions[0][2] is False  # a class decorator may read the signature


def test_who_names_a_member_is_found_in_code_and_look_up_strings():
    src = ("KEYS = ('other',)\n\n\nclass A:\n    def f(self):\n        return self.get_run_by_id(1)\n\n"
           "    def g(self):\n        return getattr(self, 'get_run_by_id')\n\n"
           "    def h(self):\n        return 'instance.get_run_by_id(x) printed'\n\n"
           "    def get_run_by_id(self):\n        return 0\n")
    assert reach.mentions(src, {"get_run_by_id"}) == ({"A.f", "A.g"}, None)
    assert reach.mentions(src, {"get_run_by_id"}, overrides=True) == ({"A.f", "A.g", "A.get_run_by_id"}, None)
    # a table of names at module level is data; handing one to a call at import is code
    assert reach.mentions(src.replace("'other'", "'pkg.mod:get_run_by_id'"), {"get_run_by_id"})[1] == "data"
    assert reach.mentions(src.replace("('other',)", "register('get_run_by_id')"), {"get_run_by_id"})[1] == "code"


def test_ranges_round_trip():
    r = reach.Reach("3.11.7", "h", {}, {}, {}, {"a:f": "1", "a:g": "2", "b:h": "3"}, ["a:g"],
                    {"c1": ["a:f", "a:g"], "c2": ["b:h"]}, {"p": []})
    data = r.as_dict()
    assert data["cells"] == {"c1": "0-1", "c2": "2"} and data["programs"] == {"p": ""}
    assert reach.Reach.from_dict(data) == r


@pytest.fixture(scope="module")
def small_baseline(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reach") / "baseline"
    shutil.copytree(SHIPPED, out, ignore=lambda d, names: [n for n in names if n in ("traces", "fuzz", "reach.json")])
    lines: dict = {}
    paths = behaviour_mod.record(sys.executable, str(out), subclasses=["spy"], scenarios=SCENARIOS,
                                 storages=["memory"], reach=lines, jobs=2)
    built = reach.build(sys.executable, sides.from_options().search_paths, lines["startup"], lines["cells"], {},
                        touched=lines["touched"])
    reach.write(built, out)
    manifest = jsonio.read_json(out / "manifest.json", schema="compat.baseline", versions=(1,))
    # a recording of its own: its counts and the digests of its own files (its reach map included)
    manifest.update(cells=len(paths), fuzz_programs=0, digests=file_digests(out),
                    selection={"subclasses": ["spy"], "scenarios": SCENARIOS, "storages": ["memory"]})
    jsonio.write_json(out / "manifest.json", manifest)
    return out


def _reseal(base: Path) -> None:
    """A baseline edited on purpose by a test keeps the digests of its files as they now are."""
    manifest = jsonio.read_json(base / "manifest.json", schema="compat.baseline", versions=(1,))
    jsonio.write_json(base / "manifest.json", {**manifest, "digests": file_digests(base)})


def test_no_change_replays_nothing_and_full_replays_everything(small_baseline):
    base = Baseline(small_baseline)
    paths = sides.from_options().search_paths
    none = base.selection(sys.executable, paths)
    assert none.cells == [] and "no file of dagster changed" in none.reason
    full = base.selection(sys.executable, paths, full=True)
    assert len(full.cells) == full.total_cells == len(base.trace_files()) and "--full" in full.reason


def test_the_map_holds_frames_signatures_and_the_harness_functions_cells_ran(small_baseline):
    data = jsonio.read_json(small_baseline / "reach.json", schema=reach.SCHEMA, versions=(reach.VERSION,))
    assert data["schema_version"] == 3 and reach.VERSION == 3
    instance = "dagster/_core/instance/instance.py"
    assert instance in data["frames"] and len(data["signatures"][instance]) % reach.SIGNATURE_CHARS == 0
    base = Baseline(small_baseline)
    lifecycle = next(fns for cell, fns in base.reach.cells.items() if "runs_lifecycle" in cell)
    assert "compat/behaviour/scenarios/runs.py:runs_lifecycle" in lifecycle
    # the start-up's warm list asks for modules of several releases by looking for their files:
    # a module a branch adds under one of those names was never looked up by a cell
    from compat.behaviour.worker import WARM_MODULES
    assert not set(base.reach.touched["asked"]) & set(WARM_MODULES)


def _rename_get_run_by_id(pkg: Path) -> None:
    path = pkg / "_core/instance/instance.py"
    text = path.read_text()
    head = "    def get_run_by_id(self, run_id: str) -> DagsterRun | None:\n"
    body = "        record = self.get_run_record_by_id(run_id)\n"
    assert head in text and body in text
    path.write_text(text.replace(head, head.replace("run_id", "the_run_id"), 1).replace(
        body, body.replace("(run_id)", "(the_run_id)"), 1))


def test_a_renamed_parameter_replays_the_cells_that_run_or_name_the_method(small_baseline, tmp_path):
    """The one-parameter rename of get_run_by_id: the cells that ran it or ran code naming it are
    replayed, the others are not, and none that a full replay finds diverging is skipped."""
    base = Baseline(small_baseline)
    tree = _edited_tree(tmp_path, _rename_get_run_by_id)
    selection = base.selection(sys.executable, tree)
    assert "the signature of 1 definitions changed (dagster/_core/instance/instance.py:DagsterInstance.get_run_by_id)" \
        in selection.reason, selection.reason
    assert 0 < len(selection.cells) < selection.total_cells, selection.reason
    ran = {c for c, fns in base.reach.cells.items()
           if "dagster/_core/instance/instance.py:DagsterInstance.get_run_by_id" in fns}
    assert ran <= set(selection.cells)
    assert any("backfills_crud" in c for c in set(base.reach.cells) - set(selection.cells))
    python = mutate.shadowing_python(Path(tree[0]), tmp_path)
    full = behaviour_mod.replay(str(base.path), python)
    diverging = {behaviour_mod.trace_filename(f.details["cell"])[:-5] for f in full}
    assert not diverging - set(selection.cells)


def test_a_signature_edit_under_a_decorator_that_reads_it_replays_everything(small_baseline, tmp_path):
    base = Baseline(small_baseline)

    def edit(pkg: Path) -> None:
        path = pkg / "_core/instance/instance.py"
        text = path.read_text()
        head = "    def __init__(\n        self,\n        instance_type: InstanceType,"
        assert head in text
        path.write_text(text.replace(head, head.replace("instance_type: InstanceType", 'instance_type: "InstanceType"'), 1))

    selection = base.selection(sys.executable, _edited_tree(tmp_path, edit))
    assert selection.everything and "a call that does not name it (a dunder)" in selection.reason, selection.reason


def test_a_damaged_reach_map_is_one_line(small_baseline, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(small_baseline, copy)
    text = (copy / "reach.json").read_text()
    (copy / "reach.json").write_text(text.replace('"stateful": "', '"stateful": "x', 1))
    with pytest.raises(CompatError, match=r"reach.json: stateful: .*re-record it"):
        Baseline(copy)


@pytest.mark.slow
@pytest.mark.parametrize("mutation", mutate.MUTATIONS, ids=lambda m: m.id)
def test_change_aware_replay_gives_the_verdicts_of_a_full_replay(mutation, small_baseline, tmp_path):
    """Soundness on every mutant: every cell whose full replay differs from the recording is
    among the cells change-aware replay picks. The picked cells replay as in the full run and
    the static half is the same either way, so the verdicts and the findings are the same."""
    base = Baseline(small_baseline)
    root = mutate.apply(mutation, tmp_path / "site")
    python = mutate.shadowing_python(root, tmp_path)
    paths = [str(root)] + sides.from_options().search_paths
    aware = base.selection(python, paths)
    assert aware.total_cells == len(base.trace_files())
    if len(aware.cells) == aware.total_cells:
        return  # everything is replayed: the same run as --full
    full = behaviour_mod.replay(str(base.path), python)
    diverging = {behaviour_mod.trace_filename(f.details["cell"])[:-5] for f in full}
    missed = sorted(diverging - set(aware.cells))
    assert not missed, f"{mutation.id}: {aware.line()}; cells that diverge but were skipped: {missed}"


@pytest.mark.slow  # records every scenario on both storages
def test_no_cell_imports_a_module_the_start_up_did_not(tmp_path):
    """The worker imports at start-up what cells import lazily (worker.WARM_MODULES): then no
    cell is the one that runs a module's import, so its functions are not all marked stateful and
    an edit replays only the cells that reach it. Every scenario on both storages, plain spy."""
    from compat.behaviour.reach import index_module, module_code_files, package_files

    lines: dict = {}
    behaviour_mod.record(sys.executable, str(tmp_path / "b"), subclasses=["spy"], storages=["memory", "sqlite"],
                         reach=lines, jobs=2)
    paths = sides.from_options().search_paths
    built = reach.build(sys.executable, paths, lines["startup"], lines["cells"], {})
    indexes = {rel: index_module(p.read_bytes()) for rel, p in package_files(paths).items() if rel.endswith(".py")}
    at_startup = module_code_files(lines["startup"], indexes)
    importing = {cell: sorted(module_code_files(cell_lines, indexes) - at_startup)
                 for cell, cell_lines in lines["cells"].items()}
    assert {c: m for c, m in importing.items() if m} == {}
    # what a cell alone runs is not state: adding a run is the cells' that add one
    assert len(built.stateful) < len(built.functions) / 2, (len(built.stateful), len(built.functions))
    own = [k for k in built.functions if k.endswith(":SqlRunStorage.add_run")]
    assert own and not set(own) & set(built.stateful)


def test_the_harness_digest_covers_what_a_worker_runs_and_nothing_else(tmp_path):
    """Editing how traces are compared or which cells exist keeps the shipped reach maps; editing
    a scenario or the worker does not."""
    copy = tmp_path / "compat"
    shutil.copytree(ROOT / "compat", copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert reach.harness_digest(copy) == reach.harness_digest()
    for parent_side in ("behaviour/replay.py", "behaviour/cells.py", "behaviour/compare.py", "behaviour/replay_rules.py",
                        "behaviour/coverage.py", "behaviour/reach.py", "behaviour/selection.py", "causes/grouping.py", "cli.py",
                        "gate/gate.py"):
        with (copy / parent_side).open("a") as f:
            f.write("\n# edited\n")
    assert reach.harness_digest(copy) == reach.harness_digest()
    for worker_side in ("behaviour/worker.py", "worker/recorder.py", "behaviour/scenarios/runs.py", "corpus/cloud.py",
                        "model/trace.py"):
        before = reach.harness_digest(copy)
        with (copy / worker_side).open("a") as f:
            f.write("\n# edited\n")
        assert reach.harness_digest(copy) != before, worker_side


def test_the_requirement_closure_follows_extras_and_markers_and_nothing_else():
    dists = {
        "dagster": ("1.0", ["click>=8", "tomli; python_version < '3.0'", "rich[jupyter]", "sphinx; extra == 'docs'"]),
        "click": ("8.1", []), "tomli": ("2.0", []), "rich": ("13.0", ["ipywidgets; extra == 'jupyter'", "pygments"]),
        "ipywidgets": ("8.0", []), "pygments": ("2.0", []), "sphinx": ("7.0", []), "ruff": ("0.5", []),
    }
    assert reach.requirement_closure(dists, ["dagster"]) == {
        "click": "8.1", "dagster": "1.0", "ipywidgets": "8.0", "pygments": "2.0", "rich": "13.0"}
    assert "sphinx" in reach.requirement_closure(dists, ["dagster[docs]"])


def _python_with(spec: str, tmp_path: Path) -> str:
    """The test interpreter with ``spec`` installed (no dependencies) first on its path."""
    import subprocess

    from compat.envs import uv_bin

    site = tmp_path / "site"
    subprocess.run([uv_bin(), "pip", "install", "-q", "--no-deps", "--target", str(site), spec], check=True)
    return mutate.shadowing_python(site, tmp_path)


def test_a_linter_beside_dagster_costs_no_replay(small_baseline, tmp_path):
    """A distribution neither dagster nor the harness requires cannot be imported by a cell: a
    developer's venv with a linter in it replays nothing."""
    python = _python_with("pyflakes==3.2.0", tmp_path)
    assert reach.interpreter_info(python) == reach.interpreter_info(sys.executable)
    selection = Baseline(small_baseline).selection(python, sides.from_options().search_paths)
    assert selection.cells == [] and "no file of dagster changed" in selection.reason


def test_another_version_of_a_required_distribution_replays_everything(small_baseline, tmp_path):
    """packaging is required by dagster; the copy first on the path is the one imported."""
    python = _python_with("packaging==23.2", tmp_path)
    assert reach.interpreter_info(python)[1]["packaging"] == "23.2"
    selection = Baseline(small_baseline).selection(python, sides.from_options().search_paths)
    assert selection.everything and "other versions of 1 dependencies (packaging)" in selection.reason


def test_a_dependency_no_worker_imported_or_read_costs_no_replay(small_baseline, tmp_path):
    """tabulate is required by dagster but no worker imports it (protobuf, the example before,
    is imported at start-up since the worker warms the gRPC server the code-location cells load),
    and the metadata the workers read of it (pydantic's plugin search: its entry points) is the
    same in another release: the bump of 0.10.0 -> 0.9.0 replays nothing for it."""
    base = Baseline(small_baseline)
    assert "tabulate" not in base.reach.touched["distributions"]
    assert "protobuf" in base.reach.touched["distributions"]
    assert any(k.startswith("tabulate/") for k in base.reach.touched["metadata"])
    python = _python_with("tabulate==0.9.0", tmp_path)
    selection = base.selection(python, sides.from_options().search_paths)
    assert selection.cells == [], selection.reason
    assert "1 dependencies no worker imported or read (tabulate)" in selection.reason


def test_a_dependency_whose_metadata_a_worker_read_is_felt(small_baseline, tmp_path):
    """A worker that read a distribution's metadata saw its content: another content is felt even
    when the distribution's code never ran."""
    base = Baseline(small_baseline)
    damaged = tmp_path / "b"
    shutil.copytree(small_baseline, damaged)
    data = jsonio.read_json(damaged / "reach.json", schema=reach.SCHEMA, versions=(reach.VERSION,))
    data["touched"]["metadata"]["tabulate/entry_points.txt"] = "0123456789abcdef"
    jsonio.write_json(damaged / "reach.json", data, 2)
    _reseal(damaged)
    python = _python_with("tabulate==0.9.0", tmp_path)
    selection = Baseline(damaged).selection(python, sides.from_options().search_paths)
    assert selection.everything and "other versions of 1 dependencies (tabulate)" in selection.reason
    assert base.reach.touched["metadata"] != data["touched"]["metadata"]


def test_dagster_metadata_a_worker_read_is_compared_by_digest(small_baseline, tmp_path):
    """dagster's own entry points are read at import (pydantic's plugin search) and are no file of
    its packages: the recorded digest is compared, and another content replays everything."""
    base = Baseline(small_baseline)
    assert "dagster/entry_points.txt" in base.reach.touched["metadata"]
    assert selection_mod.felt_own_metadata(base.reach, sys.executable) is None
    changed = tmp_path / "b"
    shutil.copytree(small_baseline, changed)
    data = jsonio.read_json(changed / "reach.json", schema=reach.SCHEMA, versions=(reach.VERSION,))
    data["touched"]["metadata"]["dagster/entry_points.txt"] = "0123456789abcdef"
    jsonio.write_json(changed / "reach.json", data, 2)
    _reseal(changed)
    selection = Baseline(changed).selection(sys.executable, sides.from_options().search_paths)
    assert selection.everything and "metadata of dagster a worker read changed (dagster/entry_points.txt)" in selection.reason


def _edited_tree(tmp_path: Path, edit) -> list[str]:
    """A copy of the installed dagster with ``edit(root)`` applied, first on the search path."""
    root = tmp_path / "tree"
    shutil.copytree(mutate.dagster_root() / "dagster", root / "dagster", ignore=shutil.ignore_patterns("__pycache__"))
    edit(root / "dagster")
    return [str(root)] + sides.from_options().search_paths


def _unimported(base: Baseline) -> str:
    """A module of dagster that no recorded worker imported, with a function in it."""
    imported = set(base.reach.imported)
    return next(rel for rel in sorted(base.reach.files) if rel.startswith("dagster/_cli/") and rel.endswith(".py")
                and rel not in imported and "def " in (mutate.dagster_root() / rel).read_text())


def test_edits_of_a_module_no_worker_imported_cost_no_replay(small_baseline, tmp_path):
    base = Baseline(small_baseline)
    rel = _unimported(base)

    def edit(pkg: Path) -> None:
        path = pkg.parent / rel
        text = path.read_text()
        path.write_text(text.replace("def ", "def _compat_added(): return 1\n\n\ndef ", 1) + "\nX_ADDED = 1\n")

    selection = base.selection(sys.executable, _edited_tree(tmp_path, edit))
    assert selection.cells == [] and f"1 changed files no worker imported or read ({rel})" in selection.reason


@pytest.mark.parametrize("case", ["migration", "asked", "removed", "data"])
def test_a_file_added_or_removed_where_a_worker_looked_replays_everything(case, small_baseline, tmp_path):
    """alembic lists its versions folder (a new migration moves the head); a name a worker asked
    for and did not find (``try: import x``) would now import; a module a worker imported is
    gone; a data file can be looked for by path in ways no hook sees."""
    base = Baseline(small_baseline)
    touched = base.reach.touched
    assert "dagster/_core/storage/alembic/versions" in touched["listed"]
    assert "dagster._vendored.dateutil.tz.win" in touched["asked"]  # its import fails off Windows
    if case == "asked":  # as if a worker had tried `import dagster._core.instance.compat_added`
        data = jsonio.read_json(small_baseline / "reach.json", schema=reach.SCHEMA, versions=(reach.VERSION,))
        data["touched"]["asked"].append("dagster._core.instance.compat_added.inner")
        shutil.copytree(small_baseline, tmp_path / "b")
        jsonio.write_json(tmp_path / "b" / "reach.json", data, 2)
        _reseal(tmp_path / "b")
        base = Baseline(tmp_path / "b")
    edits = {
        "migration": lambda pkg: (pkg / "_core/storage/alembic/versions/zz_compat_added.py").write_text("x = 1\n"),
        "asked": lambda pkg: (pkg / "_core/instance/compat_added.py").write_text("x = 1\n"),
        "removed": lambda pkg: (pkg / "_core/instance/ref.py").unlink(),
        "data": lambda pkg: (pkg / "_core/compat_added.txt").write_text("x\n"),
    }
    expected = {"migration": "a file was added in a folder a worker listed",
                "asked": "a file was added under a module name a worker asked for",
                "removed": "a module a worker imported was removed",
                "data": "a data file was added"}
    selection = base.selection(sys.executable, _edited_tree(tmp_path, edits[case]))
    assert selection.everything and expected[case] in selection.reason, selection.reason


def test_a_module_added_where_no_worker_looked_costs_no_replay(small_baseline, tmp_path):
    """A new module can run only if something imports it by name, and every importer that ran
    is unchanged: without a listing of its folder or a look-up of its name, nothing reaches it."""
    base = Baseline(small_baseline)
    selection = base.selection(sys.executable, _edited_tree(
        tmp_path, lambda pkg: (pkg / "_core/instance/compat_added.py").write_text("raise RuntimeError\n")))
    assert selection.cells == [], selection.reason
    assert "1 files added or removed where no worker looked (dagster/_core/instance/compat_added.py)" in selection.reason


def test_every_format_says_how_much_was_replayed_and_why():
    from compat.report import FORMATS, render

    sel = selection_mod.Selection(["a"], [], 652, 153, "1 changed functions that recorded cells or programs executed (x)", ["x"])
    for fmt in FORMATS:
        text = render([], fmt, replay=sel.as_dict())
        assert "652" in text and "1 changed functions" in text, fmt
    import json

    data = json.loads(render([], "json", replay=sel.as_dict()))
    assert data["replay"]["cells_replayed"] == 1 and data["replay"]["programs_total"] == 153
    assert "replayed" not in render([], "text")  # no behaviour layer: no line


@pytest.mark.slow  # records the cells twice
def test_recording_the_reach_map_twice_gives_the_same_bytes(tmp_path):
    """Worker k records cells k, k + jobs, ...: the lazy imports fall in the same cells on every
    recording, so the map (like the traces) is byte-identical for the same -j."""
    def record(out: Path) -> bytes:
        lines: dict = {}
        behaviour_mod.record(sys.executable, str(out), subclasses=["spy"], storages=["memory"], jobs=2, reach=lines,
                             scenarios=["runs_lifecycle", "backfills_crud", "configuration_defaults", "storage_wipe"])
        built = reach.build(sys.executable, sides.from_options().search_paths, lines["startup"], lines["cells"], {},
                            touched=lines["touched"])
        return reach.write(built, out).read_bytes()

    first, second = record(tmp_path / "a"), record(tmp_path / "b")
    assert first == second
    assert len(reach.Reach.from_dict(jsonio.read_json(tmp_path / "a" / "reach.json", schema=reach.SCHEMA,
                                                      versions=(reach.VERSION,))).cells) == 4


def test_the_gate_replays_nothing_on_the_recorded_dagster_and_everything_with_compat_full():
    """The shipped baseline was recorded on the installed dagster: nothing changed, nothing to
    replay; `--compat-full` (the `full` option) replays every cell and program."""
    from compat.gate.gate import Gate, Settings

    aware = Gate(Settings.resolve({"baseline": str(SHIPPED)}, ROOT)).selection
    assert "no file of dagster changed" in aware.reason, aware.reason  # `make setup` installs constraints.txt
    assert aware.cells == [] and aware.programs == [] and aware.total_cells == len(list((SHIPPED / "traces").glob("*.json")))
    full = Gate(Settings.resolve({"baseline": str(SHIPPED), "full": True}, ROOT)).selection
    assert full.everything and full.total_programs > 0 and "--full" in full.reason

"""`make bench`: the harness's speed, each figure beside a reference measured in the same run.

Times are medians of several repeats on this machine; ratios (ours / reference) are what to
compare across machines. Targets are printed next to each figure, and the run exits 1 if a
target is missed, so a regression shows up in the bench and never as a flaky timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = "dagster._core.instance:DagsterInstance"


def timed(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def in_subprocess(code: str, env: dict | None = None, python: str = sys.executable) -> float:
    """Wall time of a fresh interpreter running `code` (cold caches of the process)."""
    t = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, env={**os.environ, **(env or {})},
                   capture_output=True)
    return time.perf_counter() - t


ROWS: list[tuple] = []


def row(name: str, seconds: float, ref_name: str | None = None, ref: float | None = None,
        target: str = "", ok: bool | None = None) -> None:
    ratio = f"{seconds / ref:.2f}x" if ref else ""
    ROWS.append((name, f"{seconds:.3f}s", ref_name or "", f"{ref:.3f}s" if ref else "", ratio, target,
                 "" if ok is None else ("ok" if ok else "MISSED")))


def bench_static(repeats: int) -> None:
    from compat import envs
    from compat.static.diff import compare_surfaces
    from compat.static.griffe_compare import load_class
    import griffe

    old_tree = str(envs.wheel_tree("1.11.4"))
    # cold: a fresh process without the surface cache vs griffe's default whole-package load
    snap_code = ("from compat.static.extract import snapshot; snapshot(%r, use_cache=False)" % TARGET)
    griffe_code = "import griffe; griffe.load('dagster', allow_inspection=False)"
    base_code = "import compat.static.extract, griffe"
    base = statistics.median(in_subprocess(base_code) for _ in range(repeats))
    cold = statistics.median(in_subprocess(snap_code) for _ in range(repeats)) - base
    ref = statistics.median(in_subprocess(griffe_code) for _ in range(repeats)) - base
    row("cold surface snapshot (process start subtracted)", cold, "griffe.load('dagster')", ref,
        "<= 0.5x", cold <= 0.5 * ref)

    from compat.static.extract import snapshot

    snapshot(TARGET)  # fill the cache
    warm = timed(lambda: snapshot(TARGET), repeats * 3)
    row("warm surface snapshot (content-keyed cache)", warm, "cold snapshot", cold, "< 0.3s", warm < 0.3)

    old = snapshot(TARGET, [old_tree], source="dagster==1.11.4")
    new = snapshot(TARGET)
    diff = timed(lambda: compare_surfaces(old, new), repeats * 3)
    old_cls = load_class("dagster==1.11.4", TARGET)
    new_cls = load_class("installed", TARGET)
    gr = timed(lambda: list(griffe.find_breaking_changes(old_cls, new_cls)), repeats)
    row("surface diff 1.11.4 -> installed", diff, "griffe.find_breaking_changes", gr, "< 0.2s", diff < 0.2)


def _edited_side(where: Path, key: str) -> str:
    """An interpreter whose dagster is a copy of the installed one with one function's body
    edited (``file:qualname``, a statement added at its start): what a one-method change is."""
    import ast

    from compat.tools import mutate

    rel, _, qualname = key.partition(":")
    root = where / "site"
    shutil.copytree(mutate.dagster_root() / "dagster", root / "dagster", ignore=shutil.ignore_patterns("__pycache__"))
    path = root / rel
    text = path.read_text()
    tree = ast.parse(text)

    def find(body, prefix=""):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and prefix + node.name == qualname:
                return node
            if isinstance(node, ast.ClassDef):
                found = find(node.body, prefix + node.name + ".")
                if found is not None:
                    return found
        return None

    node = find(tree.body)
    first = node.body[0]
    lines = text.splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + "_compat_bench_edit = None\n")
    path.write_text("".join(lines))
    return mutate.shadowing_python(root, where)


def _bumped_dependency(where: Path, name: str) -> tuple[str, str]:
    """An interpreter whose ``name`` (a distribution dagster requires) is another release than the
    installed one, first on the path: what a dependency bump between two releases is."""
    from importlib.metadata import version

    from compat.envs import uv_bin
    from compat.tools import mutate

    spec = f"{name}==7.35.0" if version(name) != "7.35.0" else f"{name}==7.34.0"
    subprocess.run([uv_bin(), "pip", "install", "-q", "--no-deps", "--target", str(where / "site"), spec], check=True)
    return mutate.shadowing_python(where / "site", where), spec


def _pick_edits(baseline: Path) -> tuple[str, str, int]:
    """A DagsterInstance method no recorded cell executed, and an executed one about half the
    cells and programs ran."""
    from compat.behaviour import reach
    from compat.static.extract import installed_search_paths

    mapped = reach.load(baseline)
    files = reach.package_files(installed_search_paths())
    unreached = None
    for rel in sorted(files):
        if rel.startswith("dagster/_core/instance/") and rel.endswith(".py"):
            index = reach.index_module(files[rel].read_bytes())
            for name in sorted(index.functions):
                if f"{rel}:{name}" not in mapped.functions and "." in name:
                    unreached = unreached or f"{rel}:{name}"
    counts = {}
    for keys in list(mapped.cells.values()) + list(mapped.programs.values()):
        for k in keys:
            counts[k] = counts.get(k, 0) + 1
    stateful = set(mapped.stateful)
    candidates = [k for k in counts if k.startswith("dagster/_core/instance/") and k not in stateful]
    units = len(mapped.cells) + len(mapped.programs)
    # the one nearest half the cells and programs: what an edit costs in proportion to its reach
    # (the one most reach is reached by all of them, and replays everything)
    many = min(sorted(candidates), key=lambda k: abs(counts[k] - units / 2))
    return unreached, many, counts[many]


def selectivity(baseline: Path) -> tuple[float, int, int]:
    """Over every function some recorded cell or program executed: the mean share of cells and
    programs an edit of it alone replays (all of them for a stateful one)."""
    from compat.behaviour import reach

    mapped = reach.load(baseline)
    units = list(mapped.cells.values()) + list(mapped.programs.values())
    counts: dict[str, int] = {}
    for keys in units:
        for k in keys:
            counts[k] = counts.get(k, 0) + 1
    stateful = set(mapped.stateful)
    shares = [1.0 if k in stateful else counts.get(k, 0) / len(units) for k in mapped.functions]
    return sum(shares) / len(shares), len(stateful & set(mapped.functions)), len(mapped.functions)


def bench_gate(repeats: int) -> None:
    baseline = ROOT / "snapshots" / "baseline"
    if not baseline.is_dir():
        return
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "compat"), "-q", "-p", "no:cacheprovider"]

    def run(*extra: str, green: bool = True) -> tuple[float, str]:
        t = time.perf_counter()
        proc = subprocess.run(cmd + list(extra), cwd=ROOT, capture_output=True, text=True)
        if green and proc.returncode != 0:
            raise SystemExit(f"bench: the gate is not green, timings would mean nothing:\n{proc.stdout[-2000:]}")
        replayed = next((ln.split("compat: ", 1)[1].split(":", 1)[0] for ln in proc.stdout.splitlines()
                         if ln.startswith("compat: replayed ")), "?")
        return time.perf_counter() - t, replayed

    one_import = statistics.median(in_subprocess("import dagster") for _ in range(repeats))
    # the full replays alternate, best of two each: one disturbance of the machine (the serial
    # run took 120 s to 230 s on this machine) then moves neither figure
    serials, fulls = [], []
    for _ in range(2):
        serials.append(run("-n", "0", "--compat-full")[0])
        fulls.append(run("-n", "2", "--compat-full")[0])
    serial, full = min(serials), min(fulls)
    aware, aware_what = run("-n", "2")
    row(f"whole gate -n 0, full replay (best of {', '.join(f'{t:.1f}' for t in serials)})", serial, "", None, "", None)
    row(f"whole gate -n 2, full replay (best of {', '.join(f'{t:.1f}' for t in fulls)})", full, "-n 0", serial,
        "speedup >= 1.9x", serial / full >= 1.9)
    row(f"whole gate -n 2, unchanged dagster ({aware_what})", aware, "import dagster", one_import,
        "<= 6x", aware / one_import <= 6)
    if (baseline / "reach.json").exists():
        share, stateful, total = selectivity(baseline)
        ROWS.append((f"change-aware selectivity ({stateful}/{total} executed functions stateful)",
                     f"{share:.0%}", "", "", "", "mean share of cells+programs one function's edit replays", ""))
        unreached, many, count = _pick_edits(baseline)
        for label, key in (("edit no cell reaches", unreached), (f"edit {count} cells/programs reach", many)):
            with tempfile.TemporaryDirectory(prefix="compat-bench-edit-") as tmp:
                python = _edited_side(Path(tmp), key)
                t, what = run("-n", "2", "--compat-python", python, green=False)
            row(f"gate -n 2, {label} ({what}; {key.rsplit(':', 1)[1]})", t, "full replay -n 2", full, "", None)
        with tempfile.TemporaryDirectory(prefix="compat-bench-dep-") as tmp:
            python, spec = _bumped_dependency(Path(tmp), "protobuf")
            t, what = run("-n", "2", "--compat-python", python, green=False)
        row(f"gate -n 2, {spec} beside the recorded dagster ({what})", t, "full replay -n 2", full, "", None)


# The main job's parent process: `compat check` run in this wrapper, which writes its own CPU
# seconds (user + system, the workers' excluded) to the file named first.
_PARENT_CPU = """
import resource, sys
from compat.cli import main
out, sys.argv = sys.argv[1], ["compat"] + sys.argv[2:]
try:
    code = main()
finally:
    r = resource.getrusage(resource.RUSAGE_SELF)
    open(out, "w").write(repr(r.ru_utime + r.ru_stime))
sys.exit(code)
"""

# A sample of the main job's cells run one after the other in one warmed worker interpreter:
# the CPU seconds of the whole cells and of the harness's parts (compat.behaviour.worker.run_cell).
_CELL_COSTS = """
import json, sys
from pathlib import Path
from compat.behaviour import worker
from compat.worker import speedups
from compat.model.schemas import read_trace
speedups.install()
worker.warm()
files = sorted(Path(sys.argv[1], "traces").glob("*.json"))[::int(sys.argv[2])]
total = {"cell": 0.0, "instance": 0.0, "state": 0.0, "trace": 0.0}
for f in files:
    cell, costs = read_trace(f)["cell"], {}
    worker.run_cell(cell["subclass"], cell["scenario"], cell["storage"], costs=costs)
    for k in total:
        total[k] += costs[k]
print(json.dumps({"cells": len(files), **total}))
"""


def bench_main_job(repeats: int) -> None:
    """The main job (`make check`'s replay) with every cell and program replayed, against one
    `import dagster` measured in the same run; the parent's own CPU; and the harness's share of a
    cell's CPU (instance, state capture, trace) over a sample of its cells."""
    baseline = ROOT / "snapshots" / "baseline-1.11.4"
    if not baseline.is_dir():
        return
    cmd = ["check", "--baseline", str(baseline), "-j", "2", "--full", "--fail-on", "never"]
    imports, fulls, parents = [], [], []
    with tempfile.TemporaryDirectory(prefix="compat-bench-main-") as tmp:
        cpu_file = Path(tmp) / "cpu"
        for _ in range(2):  # alternating, best of two each: one disturbance moves neither figure
            imports.append(in_subprocess("import dagster"))
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", _PARENT_CPU, str(cpu_file), *cmd], cwd=ROOT,
                                  capture_output=True, text=True, env={**os.environ, "COMPAT_QUIET": "1"})
            fulls.append(time.perf_counter() - t)
            if proc.returncode != 0:
                raise SystemExit(f"bench: the main job failed:\n{proc.stderr[-2000:]}")
            parents.append(float(cpu_file.read_text()))
    one_import, full, parent = min(imports), min(fulls), min(parents)
    row(f"main job, check 1.11.4 baseline -j 2 --full (best of {', '.join(f'{t:.1f}' for t in fulls)})", full,
        "import dagster", one_import, "<= 20x", full <= 20 * one_import)
    ROWS.append(("main job, the parent's own CPU (user + system)", f"{parent:.2f}s", "", "", "", "<= 3s",
                 "ok" if parent <= 3 else "MISSED"))
    proc = subprocess.run([sys.executable, "-c", _CELL_COSTS, str(baseline), "4"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    costs = json.loads(proc.stdout.strip().splitlines()[-1])
    own = costs["instance"] + costs["state"] + costs["trace"]
    parts = ", ".join(f"{k} {costs[k] / costs['cell']:.0%}" for k in ("instance", "state", "trace"))
    ROWS.append((f"harness's share of a cell's CPU ({costs['cells']} cells of the main job: {parts})",
                 f"{own / costs['cell']:.0%}", "", "", "", "<= 25%", "ok" if own <= 0.25 * costs["cell"] else "MISSED"))


def bench_behaviour(repeats: int) -> None:
    try:
        from compat.behaviour import replay
    except ImportError:
        return
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        replay.record(sys.executable, tmp, jobs=1)
        serial = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        replay.record(sys.executable, tmp, jobs=2)
        par = time.perf_counter() - t
    row("behaviour suite, 1 worker", serial, "", None, "", None)
    row("behaviour suite, 2 workers", par, "1 worker", serial, "speedup >= 1.6x", serial / par >= 1.6)


def bench_fuzz(repeats: int) -> None:
    try:
        from compat.fuzz.differential import examples_per_second
    except ImportError:
        return
    rate, seconds = examples_per_second(sys.executable, sys.executable, examples=60)
    ROWS.append(("fuzz, differential examples per second", f"{rate:.1f}/s", "", "", "", ">= 20/s",
                 "ok" if rate >= 20 else "MISSED"))


def bench_compare(repeats: int) -> None:
    """`compare` of two released versions with warm environments, against the floor of simply
    starting both environments' interpreters and importing dagster in each."""
    from compat import envs

    olds, news = envs.parse_spec("dagster==1.11.4"), envs.parse_spec("dagster==1.11.6")
    pythons = [envs.python_for(olds), envs.python_for(news)]  # warms the env cache
    cmd = [sys.executable, "-m", "compat", "compare", "--old", "dagster==1.11.4", "--new", "dagster==1.11.6",
           "-j", "2", "--fail-on", "never"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True)  # warm surfaces and wheels too
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"bench: compare failed: {proc.stderr[-2000:]}")
    floor = sum(in_subprocess("import dagster", python=py) for py in pythons)
    row("compare 1.11.4 -> 1.11.6, warm envs, -j 2", wall, "import dagster in both envs", floor, "", None)


def bench_ecosystem(repeats: int) -> None:
    """`compat ecosystem` 1.11.4 -> 1.13.29 over the default packages with a warm cache (wheels,
    discoveries and profiles by wheel hash), against griffe's default whole-package load of the
    two dagsters it compares."""
    from compat import envs

    old, new = envs.wheel_tree("1.11.4"), envs.wheel_tree("1.13.29")
    cmd = [sys.executable, "-m", "compat", "ecosystem", "--old", "dagster==1.11.4", "--new", "dagster==1.13.29",
           "--format", "json", "--fail-on", "never"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True)  # warms the cache (slow the first time: downloads)

    def run() -> None:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"bench: ecosystem failed: {proc.stderr[-2000:]}")

    wall = timed(run, repeats)
    load = ("import griffe\n"
            f"griffe.load('dagster', search_paths=[{str(old)!r}], allow_inspection=False)\n"
            f"griffe.load('dagster', search_paths=[{str(new)!r}], allow_inspection=False)\n")
    ref = statistics.median(in_subprocess(load) for _ in range(repeats))
    row("ecosystem 1.11.4 -> 1.13.29, 14 packages, warm cache", wall, "griffe.load of both dagsters", ref, "", None)


def bench_against(rev: str, repeats: int) -> None:
    """The gate (`-n 2`) and `compare` of this tree against the same commands of git revision
    `rev`, exported to a temp dir with its own venv; runs alternate so both see the same machine."""
    with tempfile.TemporaryDirectory(prefix="compat-bench-") as tmp:
        tree, venv = Path(tmp) / "tree", Path(tmp) / "venv"
        tree.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        uv = [sys.executable, "-m", "uv"]
        subprocess.run(uv + ["venv", "-q", "--python", sys.executable, str(venv)], check=True)
        subprocess.run(uv + ["pip", "install", "-q", "--python", str(venv / "bin" / "python"), "-e", str(tree)],
                       check=True)
        sides = {"this tree": (sys.executable, ROOT), rev: (str(venv / "bin" / "python"), tree)}

        def gate(python: str, root: Path) -> list[str]:
            return [python, "-m", "pytest", str(root / "compat"), "-q", "-p", "no:cacheprovider", "-n", "2"]

        def compare(python: str, root: Path) -> list[str]:
            return [python, "-m", "compat", "compare", "--old", "dagster==1.11.4", "--new", "dagster==1.11.6",
                    "-j", "2", "--fail-on", "never"]

        for what, make in (("whole gate, pytest compat/ -n 2", gate), ("compare 1.11.4 -> 1.11.6, -j 2", compare)):
            times: dict[str, list[float]] = {name: [] for name in sides}
            for i in range(repeats + 1):  # the first round warms caches and is not counted
                for name, (python, root) in sides.items():
                    t = time.perf_counter()
                    proc = subprocess.run(make(python, root), cwd=root, capture_output=True, text=True)
                    if proc.returncode != 0:
                        raise SystemExit(f"bench: {what} failed for {name}:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
                    if i:
                        times[name].append(time.perf_counter() - t)
            ours, theirs = statistics.median(times["this tree"]), statistics.median(times[rev])
            row(f"{what}, this tree", ours, f"the same at {rev}", theirs, "<= 1.10x", ours <= 1.10 * theirs)


COVERAGE: list[str] = []


def bench_coverage(repeats: int) -> None:
    """What the gate's cells execute of the target: recorded beside the timings (not timed)."""
    from compat.behaviour import coverage

    profiles = coverage.load_profiles(sorted((ROOT / "snapshots" / "profiles").glob("*.json")))
    t = time.perf_counter()
    report = coverage.measure(sys.executable, cell_set="gate", jobs=2, profiles=profiles)
    row("gate cells under coverage", time.perf_counter() - t)
    s = report.summary()
    COVERAGE.append(f"coverage of {TARGET} by the gate cells: members {s['members_executed']}/{s['members']}, "
                    f"reachable members {s['reachable_executed']}/{s['reachable']}, "
                    f"lines {s['lines_executed']}/{s['lines']} ({100 * s['line_rate']:.1f}%)")


def bench_history(repeats: int) -> None:
    """A static history of 1.11.4 -> 1.11.8 in a fresh cache (the wheels shared): cold, warm,
    and the cost of adding one release, each against the cold run of the same range."""
    import shutil

    from compat import envs

    for v in ("1.11.4", "1.11.5", "1.11.6", "1.11.7", "1.11.8", "1.11.9"):
        envs.wheel_tree(v)
    cache = Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        (cache / "wheels").symlink_to(envs.cache_dir() / "wheels")
        env = {**os.environ, "COMPAT_CACHE_DIR": str(cache), "COMPAT_QUIET": "1"}

        def run(to: str) -> float:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "compat", "history", "--from", "1.11.4", "--to", to,
                            "--static-only"], cwd=ROOT, env=env, check=True, capture_output=True)
            return time.perf_counter() - t

        cold = run("1.11.8")
        warm = statistics.median(run("1.11.8") for _ in range(repeats))
        one_more = run("1.11.9")
        row("history 1.11.4 -> 1.11.8 static, warm", warm, "the same, cold", cold, "", None)
        row("history adding 1.11.9 to a warm 1.11.8", one_more, "the same, cold", cold, "", None)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def bench_plugin(repeats: int) -> None:
    """An unrelated trivial pytest run in the harness's venv, with the plugin and without it
    (`-p no:compat`), alternating, best of the repeats each: the plugin imports nothing heavy
    until a run asks for the gate. Measured in CPU seconds of the pytest process (user + system)
    as well as wall time: on a shared machine the wall time of a one-second run swings by more
    than the 15% it is judged by."""
    import resource

    with tempfile.TemporaryDirectory(prefix="compat-bench-plugin-") as tmp:
        Path(tmp, "test_own.py").write_text("def test_own():\n    assert True\n")

        def run(*extra: str) -> tuple[float, float]:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra], cwd=tmp,
                           check=True, capture_output=True)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

        with_plugin, without = [], []
        for _ in range(max(repeats, 5)):
            with_plugin.append(run())
            without.append(run("-p", "no:compat"))
    wall, ref_wall = min(w for w, _ in with_plugin), min(w for w, _ in without)
    cpu, ref_cpu = min(c for _, c in with_plugin), min(c for _, c in without)
    row("trivial unrelated pytest run, plugin installed (CPU)", cpu, "the same with -p no:compat", ref_cpu,
        "<= 1.15x", cpu <= 1.15 * ref_cpu)
    row("trivial unrelated pytest run, plugin installed (wall)", wall, "the same with -p no:compat", ref_wall)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=("static", "behaviour", "main", "gate", "fuzz", "compare", "coverage",
                                           "ecosystem",
                                           "history",
                                           "plugin", "against"))
    parser.add_argument("--against", metavar="REV", default=os.environ.get("BENCH_AGAINST") or None,
                        help="also time the gate and compare of git revision REV in the same run")
    args = parser.parse_args()
    steps = {"static": bench_static, "behaviour": bench_behaviour, "main": bench_main_job, "gate": bench_gate, "fuzz": bench_fuzz,
             "compare": bench_compare, "coverage": bench_coverage, "ecosystem": bench_ecosystem,
             "history": bench_history, "plugin": bench_plugin}
    if args.against:
        steps["against"] = lambda repeats: bench_against(args.against, repeats)
    for name, step in steps.items():
        if args.only in (None, name):
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            step(args.repeats)
    headers = ("measure", "time", "reference", "ref time", "ratio", "target", "")
    widths = [max(len(str(r[i])) for r in ROWS + [headers]) for i in range(len(headers))]
    for r in [headers] + ROWS:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    for line in COVERAGE:
        print(line)
    return 1 if any(r[-1] == "MISSED" for r in ROWS) else 0


if __name__ == "__main__":
    sys.exit(main())

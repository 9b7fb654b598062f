"""`compat fuzz`: Hypothesis searches for programs that tell two dagsters apart.

A rule-based state machine generates programs over the instance API (runs with tags, statuses
and filters, run failure and cancellation events, asset materializations and wipes, dynamic
partitions, daemon heartbeats, settings read through overriding subclasses). Every step runs
in two workers, one per dagster, each on a fresh instance of the same corpus subclass wrapped
in a spy; the step's normalized result and the dispatches to the subclass's own overrides must
be identical. The first mismatch is shrunk and printed as a runnable snippet; as a finding, it is
the ``fuzz-mismatch`` rule (``FUZZ_MISMATCH``, registered here in the one rule registry with a
stored program that ``compare_stored`` reports).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from compat import progress, sides
from compat.channel import WorkerProcess
from compat.fuzz import ops as ops
from compat.fuzz.ops import entry_member, snippet
from compat.model.errors import CompatError
from compat.model.findings import BOTH, BREAKING, SUBCLASSES, Finding
from compat.model.jsonio import read_json, write_json
from compat.rules.registry import FUZZ, Fixture, register

STEP_TIMEOUT = 60.0

_TAGGED_RUN = {"id": "<uuid-1>", "job": "job_a", "status": "NOT_STARTED",
               "tags": {"corpus/origin": "create-run-tags", "team": "1"}}
_STORED = {"subclass": "spy:create-run-tags", "storage": "memory",
           "steps": [["create_run_for_job", {"status": "NOT_STARTED", "tags": {"team": "1"}}]],
           "results": [{"overrides_dispatched": ["create_run"], "value": _TAGGED_RUN}]}

FUZZ_MISMATCH = register(
    id="fuzz-mismatch",
    severity=BREAKING,
    audience=BOTH,
    audience_note="subclasses when the program runs on a corpus subclass (`spy:<name>`)",
    layer=FUZZ,
    family="programs",
    summary=("A generated program (live `compat fuzz`, or stored in a baseline) gives a step a different result "
             "or a different dispatch to the subclass's own overrides."),
    explanation="""
        Some sequence of ordinary instance calls (create runs, add tags, report events, wipe
        assets, ...) returns something else on the new dagster, or no longer reaches (or newly
        reaches) an override of the subclass it runs on: callers making those calls, and the
        subclass whose override is skipped, see different behaviour. The finding carries a
        snippet that reproduces it on either dagster. A stored program that cannot run at all on
        the new side is reported the same way.
    """,
    fix="Run the finding's snippet on both dagsters and make the first differing step behave as before.",
    fixture=Fixture(_STORED, [{"overrides_dispatched": [], "value": {**_TAGGED_RUN, "tags": {"team": "1"}}}]),
    near_miss=Fixture(_STORED, [{"overrides_dispatched": ["create_run"], "value": dict(_TAGGED_RUN)}],
                      about="the new dagster gives the same result and reaches the same override"),
)

DEFAULT_SUBCLASSES = (
    "spy:create-run-tags", "spy:event-filter", "spy:run-retries-forbidden", "spy:settings-override",
    "spy:telemetry-off", "spy:protected-reader", "spy:chain-leaf", "spy:no-daemons", "spy",
)


class FuzzWorker(WorkerProcess):
    """A `compat.fuzz.worker` process on one interpreter; a hang or crash is a CompatError."""

    def __init__(self, python: str, label: str, reach: bool = False, server: str | None = None):
        self.label = label
        super().__init__(python, "compat.fuzz.worker", name=f"fuzz worker for {label}",
                         extra_env={"COMPAT_REACH": "1"} if reach else None, server=server)
        self.version = self.dagster_version


def request_both(old: FuzzWorker, new: FuzzWorker, obj: dict, what: str) -> tuple[Any, Any]:
    """Send to both workers first, then read both: the two versions run in parallel."""
    old.send(obj, what)
    new.send(obj, what)
    return old.receive(STEP_TIMEOUT, what)["result"], new.receive(STEP_TIMEOUT, what)["result"]


@dataclass
class Mismatch:
    subclass: str
    storage: str
    program: list
    old: Any
    new: Any

    def snippet(self) -> str:
        return snippet(self.program, self.subclass, self.storage)


@dataclass
class FuzzResult:
    examples: int = 0
    steps: int = 0
    seconds: float = 0.0
    mismatch: Mismatch | None = None
    programs: list = field(default_factory=list)  # (subclass, storage, program) of each example


class _Differ(AssertionError):
    pass


def build_machine(old: FuzzWorker, new: FuzzWorker, subclasses: tuple[str, ...], result: FuzzResult,
                  storages: tuple[str, ...] = ("memory",)):
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

    class Differential(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.subclass, self.storage, self.program = None, None, []

        @initialize(subclass=st.sampled_from(subclasses), storage=st.sampled_from(storages))
        def begin(self, subclass, storage):
            self.subclass, self.storage = subclass, storage
            request_both(old, new, {"op": "begin", "subclass": subclass, "storage": storage}, f"begin {subclass}")
            result.examples += 1
            result.programs.append((subclass, storage, self.program))

        def step(self, op: str, **args) -> None:
            name = op
            self.program.append((name, args))
            result.steps += 1
            what = f"step {len(self.program)} ({name}) of a program on {self.subclass}"
            a, b = request_both(old, new, {"op": "step", "name": name, "args": args}, what)
            if a != b:
                result.mismatch = Mismatch(self.subclass, self.storage, list(self.program), a, b)
                raise _Differ(f"{name}: {a!r} != {b!r}")

        def teardown(self):
            if self.subclass is not None:
                request_both(old, new, {"op": "end"}, "end")

    for op in ops.OPS.values():  # one rule per operation, its arguments drawn as the op declares
        setattr(Differential, op.name, rule(**{k: strategy(a) for k, a in op.args.items()})(_stepper(op.name)))
    return Differential


def _stepper(name: str):
    def step(self, **args) -> None:
        self.step(name, **args)

    step.__name__ = name
    return step


def strategy(arg: ops.Arg):
    """The Hypothesis strategy of an operation's argument (:class:`compat.fuzz.ops.Arg`)."""
    from hypothesis import strategies as st

    if arg.kind == "choice":
        drawn = st.sampled_from(arg.values)
    elif arg.kind == "ints":
        drawn = st.integers(arg.low, arg.high)
    elif arg.kind == "lists":
        drawn = st.lists(st.sampled_from(arg.values), min_size=arg.min_size, max_size=arg.max_size, unique=arg.unique)
    elif arg.kind == "dicts":
        drawn = st.dictionaries(st.sampled_from(arg.keys), st.sampled_from(arg.values), max_size=arg.max_size)
    else:
        raise ValueError(f"unknown argument kind {arg.kind!r}")
    return st.none() | drawn if arg.optional else drawn


def run_fuzz(old_python: str, new_python: str, *, max_examples: int = 100, seed: int = 0,
             subclasses: tuple[str, ...] = DEFAULT_SUBCLASSES, steps: int = 10,
             labels: tuple[str, str] = ("old", "new"), storages: tuple[str, ...] = ("memory",)) -> FuzzResult:
    """Fuzz two interpreters' dagsters against each other.

    In-memory storage is the default: a sqlite event log creates a database per run (~0.3 s
    each), which would cut the example rate tenfold; `storages=("memory", "sqlite")` adds it.
    """
    from hypothesis import HealthCheck, seed as hseed, settings
    from hypothesis.stateful import run_state_machine_as_test

    result = FuzzResult()
    old = FuzzWorker(old_python, labels[0])
    new = FuzzWorker(new_python, labels[1])
    started = time.perf_counter()
    # One search per subclass, so every subclass gets its share of programs.
    per_subclass = max(1, max_examples // len(subclasses))
    try:
        for subclass in subclasses:
            # seeded, not derandomized: derandomize seeds from the machine's source text, so any
            # edit of the harness would change every stored program; the seed says which sequence
            machine = hseed(seed)(build_machine(old, new, (subclass,), result, storages))
            config = settings(max_examples=per_subclass, stateful_step_count=steps, deadline=None,
                              database=None, derandomize=True, print_blob=False, report_multiple_bugs=False,
                              suppress_health_check=list(HealthCheck))
            try:
                run_state_machine_as_test(machine, settings=config)
            except _Differ:
                break  # result.mismatch holds the shrunk program (the last one that failed)
    finally:
        result.seconds = time.perf_counter() - started
        old.close()
        new.close()
    return result


def examples_per_second(old_python: str, new_python: str, examples: int = 60) -> tuple[float, float]:
    result = run_fuzz(old_python, new_python, max_examples=examples)
    return result.examples / result.seconds, result.seconds


def _dispatched(result: Any) -> list[str] | None:
    """The overrides a step dispatched to, when the result records them."""
    if isinstance(result, dict) and isinstance(result.get("overrides_dispatched"), list):
        return sorted(set(result["overrides_dispatched"]))
    return None


def _entry(step) -> str | None:
    op, args = step
    try:
        return entry_member(op, dict(args))
    except (KeyError, IndexError, ValueError):
        return None


def mismatch_finding(m: Mismatch, labels: tuple[str, str]) -> Finding:
    last_op = m.program[-1][0] if m.program else "?"
    return FUZZ_MISMATCH.finding(
        f"{m.subclass}/{last_op}",
        f"a {len(m.program)}-step program on {m.subclass} ({m.storage}) gives different results on {labels[0]} and {labels[1]}",
        audience=SUBCLASSES if m.subclass != "spy" else None,
        old=json.dumps(m.old, sort_keys=True)[:600],
        new=json.dumps(m.new, sort_keys=True)[:600],
        details={"subclass": m.subclass, "storage": m.storage, "last_op": last_op, "snippet": m.snippet(), "old_dispatched": _dispatched(m.old), "new_dispatched": _dispatched(m.new),
                 "entry": _entry(m.program[-1]) if m.program else None},
    )


def fuzz(old_spec: str, new_spec: str, *, max_examples: int = 100, seed: int = 0, storage: str = "memory",
         progress: Callable[[str], None] = lambda m: None) -> int:
    """The CLI command: 0 when nothing told them apart, 1 with a shrunk snippet otherwise."""

    pythons, labels = [], []
    for spec_text in (old_spec, new_spec):
        side = sides.resolve(spec_text)
        progress(f"preparing {side.label}")
        pythons.append(side.python)
        labels.append(side.label)
    progress(f"fuzzing {max_examples} programs")
    storages = ("memory", "sqlite") if storage == "both" else (storage,)
    result = run_fuzz(pythons[0], pythons[1], max_examples=max_examples, seed=seed, labels=labels, storages=storages)
    rate = result.examples / result.seconds if result.seconds else 0.0
    print(f"{result.examples} programs, {result.steps} steps in {result.seconds:.1f}s ({rate:.1f} examples/s)")
    if result.mismatch is None:
        print(f"no program told {labels[0]} and {labels[1]} apart")
        return 0
    m = result.mismatch
    print(f"MISMATCH after shrinking: {len(m.program)} steps on {m.subclass} ({m.storage} storage)")
    print(f"  {labels[0]}: {json.dumps(m.old, sort_keys=True)[:800]}")
    print(f"  {labels[1]}: {json.dumps(m.new, sort_keys=True)[:800]}")
    print("reproduce with:\n")
    print(m.snippet())
    return 1


# --- stored programs: a baseline keeps generated programs and the old dagster's results ------------
PROGRAMS_SCHEMA = "compat.fuzz-programs"
PROGRAMS_VERSION = 1
PROGRAMS_FILE = "fuzz/programs.json"
DEFAULT_STORED_PROGRAMS = 180  # twenty per default subclass; seconds to record and to replay


def program_id(index: int, prog: dict) -> str:
    return f"{index:03d}-{prog['subclass'].replace(':', '-')}-{prog['storage']}"


def record_programs(python: str, out: str | os.PathLike[str], *, max_examples: int = DEFAULT_STORED_PROGRAMS,
                    seed: int = 0, reach: dict | None = None) -> int:
    """Generate programs with the state machine (the interpreter against itself) and store each
    with its per-step results on that interpreter; returns how many were stored. With ``reach``
    (a dict), also the lines of dagster each stored program ran, by program id
    (``reach["programs"]``), and what its worker ran while starting (``reach["startup"]``)."""

    generated = run_fuzz(python, python, max_examples=max_examples, seed=seed, labels=("recording", "recording"))
    if generated.mismatch is not None:
        m = generated.mismatch
        raise CompatError(f"fuzz recording on {python}: one dagster disagrees with itself on a program on "
                          f"{m.subclass}; it is not deterministic enough to record:\n{m.snippet()}")
    seen, programs = set(), []
    for subclass, storage, program in generated.programs:
        key = json.dumps([subclass, storage, program], sort_keys=True)
        if program and key not in seen:
            seen.add(key)
            programs.append({"subclass": subclass, "storage": storage, "steps": [[op, args] for op, args in program]})
    worker = FuzzWorker(python, "recording", reach=reach is not None)
    try:
        if reach is not None:
            reach["startup"] = worker.hello.get("reach") or {}
            reach["touched"] = worker.hello.get("touched") or {}
            reach["programs"] = {}
        for index, prog in enumerate(programs):
            prog["results"] = run_stored(worker, prog)
            if reach is not None:
                reply = worker.request({"op": "reach"}, STEP_TIMEOUT, "reach")
                reach["programs"][program_id(index, prog)] = reply["result"]
                reach["touched"] = reply.get("touched") or reach["touched"]  # cumulative
        version = worker.version
    finally:
        worker.close()
    write_json(out, {"schema": PROGRAMS_SCHEMA, "schema_version": PROGRAMS_VERSION, "dagster": version,
                     "programs": programs}, inline_depth=3)
    return len(programs)


def load_programs(path: str | os.PathLike[str]) -> list[dict]:
    """The stored programs, checked: each holds one recorded result per step."""
    from compat.model import schemas
    from compat.model.errors import CompatError

    data = read_json(path, schema=PROGRAMS_SCHEMA, versions=(PROGRAMS_VERSION,))
    schemas.check(schemas.ProgramsFile, data, path)
    for i, prog in enumerate(data["programs"]):
        if len(prog["results"]) != len(prog["steps"]):
            raise CompatError(f"{path}: programs.{i} has {len(prog['results'])} results for {len(prog['steps'])} "
                              "steps; re-record it")
    return data["programs"]


def run_stored(worker: FuzzWorker, prog: dict) -> list:
    """Each step's result of a stored program on the worker's dagster, on a fresh instance."""
    worker.request({"op": "begin", "subclass": prog["subclass"], "storage": prog["storage"]}, STEP_TIMEOUT,
                   f"begin {prog['subclass']}")
    try:
        return [worker.request({"op": "step", "name": op, "args": args}, STEP_TIMEOUT,
                               f"step {i + 1} ({op}) of a stored program on {prog['subclass']}")["result"]
                for i, (op, args) in enumerate(prog["steps"])]
    finally:
        worker.request({"op": "end"}, STEP_TIMEOUT, "end")


def compare_stored(index: int, prog: dict, results: list, labels: tuple[str, str]) -> Finding | None:
    """The first step whose result differs, as a fuzz-mismatch with a snippet up to that step."""
    for i, (old, new) in enumerate(zip(prog["results"], results)):
        if old != new:
            steps = [(op, args) for op, args in prog["steps"][: i + 1]]
            finding = mismatch_finding(Mismatch(prog["subclass"], prog["storage"], steps, old, new), labels)
            finding.details["program"] = program_id(index, prog)
            return finding
    return None


def replay_programs(programs: list[dict], python: str, labels: tuple[str, str],
                    only: Iterable[str] | None = None, *, jobs: int = 1, server: str | None = None) -> list[Finding]:
    """Run stored programs (as `load_programs` or `Baseline.programs` give them) on `python`;
    ``only``: the program ids to run (the others keep their recorded verdict). ``jobs`` workers
    share them (each program runs on a fresh instance of its own, whichever worker runs it), forks
    of ``server`` (a fork server's socket) when given; the findings come in the programs' order."""
    import queue
    import threading

    wanted = set(only) if only is not None else None
    chosen = [(i, p) for i, p in enumerate(programs) if wanted is None or program_id(i, p) in wanted]
    if not chosen:
        return []
    todo: queue.Queue = queue.Queue()
    for n, item in enumerate(chosen):
        todo.put((n, item))
    found: list[Finding | None] = [None] * len(chosen)
    errors: list[BaseException] = []
    stop = threading.Event()

    def drive(advance) -> None:
        worker = None
        try:
            worker = FuzzWorker(python, labels[1], server=server)
            while not stop.is_set():
                try:
                    n, (index, prog) = todo.get_nowait()
                except queue.Empty:
                    return
                found[n] = compare_stored(index, prog, run_stored(worker, prog), labels)
                advance()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)
            stop.set()
        finally:
            if worker is not None:
                worker.close()

    with progress.bar(len(chosen), "stored fuzz programs") as advance:
        threads = [threading.Thread(target=drive, args=(advance,), daemon=True)
                   for _ in range(max(1, min(int(jobs), len(chosen))))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return [f for f in found if f is not None]

"""The gate as a pytest plugin: `pytest compat/` here, `pytest --pyargs compat` anywhere else.

Registered by entry point (`pytest11`) under the name `compat`, so the `--compat-*` options exist
in every pytest run of an environment the harness is installed in (`-p no:compat` leaves it out),
with settings also read from that project's `[tool.compat]`. Every other pytest run of that
environment pays for this module only: griffe, pydantic, rich, hypothesis and dagster are imported
once a run collects the gate's own tests (`compat/test_gate.py`, named or its package given), and a
run that merely walks over the harness from a folder above it leaves the gate uncollected.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from compat.model.text import escape_unsafe
from compat.options import GATE_OPTIONS

_MISSING: ImportError | None = None


def _load_harness() -> None:
    """Import the gate's heavy half (griffe, pydantic, rich, hypothesis through the harness) into
    this module's namespace, once a run asks for the gate. An interpreter without the harness's
    dependencies still gets the options, and one line when it asks for the gate."""
    global _MISSING, replay, verdict, differential, Gate, Settings, in_xdist_worker, python_for_gate
    global update_baseline, Finding, sort_findings, RULES, REPLAY_LAYERS
    global channel, envs, forkserver, signals, tempdirs, CompatError
    if "Gate" in globals():
        return
    # the harness's process and cache helpers: the standard library only, but sockets, ctypes
    # and hashing that a run which never asks for the gate need not import either
    from compat import channel, envs, forkserver, signals, tempdirs
    from compat.model.errors import CompatError
    try:
        from compat.behaviour import replay
        from compat.causes import verdict
        from compat.fuzz import differential
        from compat.gate.gate import Gate, Settings, in_xdist_worker, python_for_gate
        from compat.gate.update import update_baseline
        from compat.model.findings import Finding, sort_findings
        from compat.rules import RULES
        from compat.rules.registry import REPLAY_LAYERS
    except ImportError as exc:
        _MISSING = exc


_FINDINGS_KEY = "compat_findings"
_UNIT_KEY = "compat_unit"  # on every gate test's reports: the run counts the units that ran


def pytest_addoption(parser):
    group = parser.getgroup("compat", "subclass-compatibility gate (also settable in [tool.compat])")
    for option in GATE_OPTIONS:
        option.add_to_gate(group)


def _settings(config) -> Settings:
    opts = {option.setting: config.getoption(f"compat_{option.setting}") for option in GATE_OPTIONS}
    settings = Settings.resolve(opts, project_root(config), Path(config.invocation_params.dir))
    if opts["no_behaviour"]:
        settings.behaviour = False
    return settings


GATE_DIR = Path(__file__).resolve().parent


def project_root(config) -> Path:
    """The project whose `[tool.compat]` applies: pytest's rootdir when `--rootdir` names it or
    when pytest found its ini file at or above where it started; else the nearest folder holding
    a pyproject.toml at or above where pytest started. `pytest --pyargs compat` from a project,
    with the harness installed editable, finds the harness's own ini file (the package's path is
    the only argument), and a path given to an option can root pytest above the project: the
    settings are still the project's."""
    root, cwd = Path(config.rootpath).resolve(), Path(config.invocation_params.dir).resolve()
    ini = Path(config.inipath).resolve().parent if config.inipath else None
    if config.getoption("rootdir", None) or (ini is not None and (cwd == ini or ini in cwd.parents)):
        return root
    return next((d for d in (cwd, *cwd.parents) if (d / "pyproject.toml").is_file()), root)


def _collects_gate(config) -> bool:
    """Whether this run asks for the gate: an argument naming the package directory or a file in
    it, or the package named with --pyargs. A folder above the harness (`pytest .` over a
    workspace that holds it) does not: the gate's tests are then left uncollected
    (:func:`pytest_ignore_collect`), and the session is the user's own."""
    for arg in config.args:
        path = arg.split("::", 1)[0]
        if config.option.pyargs and not Path(path).exists():
            spec = importlib.util.find_spec(path) if path.replace(".", "").replace("_", "").isalnum() else None
            if spec is None or not spec.origin:
                continue
            path = str(Path(spec.origin).parent if spec.origin.endswith("__init__.py") else spec.origin)
        resolved = Path(config.invocation_params.dir, path).resolve()
        if resolved == GATE_DIR or GATE_DIR in resolved.parents:
            return True
    return False


@dataclass(eq=False)  # a plugin: compared and hashed by identity
class GateRun:
    """What one run of the gate keeps between pytest's hooks, in ``config.stash[RUN]``: a run
    that does not ask for the gate has none, and every hook of the gate hands off to it."""

    gate: "Gate"
    update_summary: str | None = None  # shown in the terminal summary after a re-record
    short_tb: bool = False  # a failed unit is one line of pytest's short summary
    decided: dict | None = None  # the controller's static findings and replay selection, for xdist workers
    fork_server: "_ServerStart | None" = None
    replayer: "Replayer | None" = None
    ran: set[str] = field(default_factory=set)  # the units that ran (their node ids)
    findings: list[Any] = field(default_factory=list)  # every unit's findings, as the reports came in
    interrupted: list[tuple[str, int]] = field(default_factory=list)  # (signal, exit code)
    incomplete: tuple[int, int] | None = None  # (units that ran, of how many) when not all ran
    stale: list[Any] = field(default_factory=list)  # behaviour entries of accepted.json no finding matched
    session: Any = None  # pytest's session, once it starts: an interrupt before it began is said at unconfigure
    pending_signal: list[int] = field(default_factory=list)  # a signal kept while xdist started its workers

    # the two hooks pytest calls without the config: the run is registered as a plugin for them
    def pytest_runtest_logreport(self, report) -> None:
        """Every unit's report (an xdist worker's too): that it ran, and its findings."""
        if report.when != "call":
            return
        for key, value in report.user_properties:
            if key == _UNIT_KEY:
                self.ran.add(value)
            if key == _FINDINGS_KEY:
                self.findings.extend(Finding.from_dict(d) for d in json.loads(value))

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        if isinstance(excinfo.value, KeyboardInterrupt):
            self.interrupted.append(signals.name_and_code(excinfo.value))


RUN = pytest.StashKey[GateRun]()


def _run(config) -> GateRun | None:
    return config.stash.get(RUN, None)


def pytest_ignore_collect(collection_path, config):
    """The gate's tests run only where the run asked for the gate (see :func:`_collects_gate`)."""
    if (collection_path.name == _GATE_TESTS.name and _run(config) is None
            and collection_path.resolve() == _GATE_TESTS):
        return True
    return None


_GATE_TESTS = GATE_DIR / "test_gate.py"


def pytest_configure(config):
    if not _collects_gate(config):
        return
    _load_harness()
    if _MISSING is not None:
        raise pytest.UsageError(f"compat: this interpreter cannot import the harness ({_MISSING}); "
                                "install it (`make setup`) and run the venv's pytest")
    signals.install()  # a CI timeout's SIGTERM stops the run like Ctrl-C; a second signal cannot break the cleanup
    tempdirs.sweep_stale()
    try:
        _keep_bytecode()
        envs.probe_timeout()  # a bad COMPAT_PROBE_TIMEOUT: one usage line, and only in a gate run
        settings = _settings(config)
        summary = None
        if settings.update and not in_xdist_worker(config):
            # only while re-recording: the project's own hypothesis tests keep their database
            envs.keep_hypothesis_cache()
            summary = update_baseline(settings)
        decided = getattr(config, "workerinput", {}).get(_DECIDED_KEY)
        gate = Gate(settings, decided)  # an xdist worker: the controller checked and decided
        if decided is None:
            gate.validate()
            if settings.behaviour:
                gate.selection  # what to replay, decided before collection: a bad reach map is one line
        run = config.stash[RUN] = GateRun(gate, update_summary=summary, decided=decided)
        config.pluginmanager.register(run, "compat-gate-run")
        if config.option.tbstyle == "auto":
            # a failed unit is one line of pytest's short summary; the causes say what changed
            config.option.tbstyle = "no"
            run.short_tb = True
    except CompatError as exc:
        raise pytest.UsageError(escape_unsafe(f"compat: {exc}")) from None
    except OSError as exc:  # a full disk or an unreadable file while re-recording or loading
        where = f" ({exc.filename})" if exc.filename else ""
        raise pytest.UsageError(escape_unsafe(f"compat: {exc.strerror or exc}{where}")) from None
    except KeyboardInterrupt as exc:  # while re-recording: pytest would say nothing at all
        sig, code = signals.name_and_code(exc)
        stopped = signals.stop_all_final()
        pytest.exit(f"compat: interrupted by {sig} while loading or re-recording the baseline; stopped "
                    f"{stopped} worker(s) and removed this run's temp dirs; the baseline is unchanged", returncode=code)


def _keep_bytecode() -> None:
    """What this process imports from now on keeps its bytecode under the harness's cache, as the
    workers' does (:func:`compat.channel.bytecode_cache`). Where PYTHONDONTWRITEBYTECODE is set
    (CI containers often set it) every pytest process otherwise compiles pytest, pydantic, griffe
    and the harness again: seconds of each xdist worker's start. A prefix of the user's own stays."""
    if sys.pycache_prefix is None:
        sys.pycache_prefix = channel.bytecode_cache()
    sys.dont_write_bytecode = False


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionstart(session):
    """xdist starts its workers in this hook: they inherit the bytecode prefix from the
    environment, which is put back as it was once they are started. A signal meanwhile waits
    until they are: one that lands between starting a worker and handing it its bootstrap line
    leaves a worker that prints a traceback, and pytest, interrupted before its session began,
    would neither finish it (no line, exit 2) nor stop the workers it had started."""
    run = _run(session.config)
    if run is not None:
        run.session = session
    if run is None or in_xdist_worker(session.config):
        yield
        return
    with signals.deferred() as pending, envs.environ(PYTHONPYCACHEPREFIX=sys.pycache_prefix or channel.bytecode_cache(),
                                                     PYTHONDONTWRITEBYTECODE=None):
        yield
    run.pending_signal = pending


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    """A signal that arrived while the session started is raised now, where an interrupt of the
    run finishes its session (xdist stops its workers) and says so in one line."""
    run = _run(session.config)
    if run is not None and run.pending_signal:
        signals.raise_for(run.pending_signal.pop())


def _incomplete(run: GateRun) -> tuple[int, int] | None:
    """(units that ran, units of the check) when the run did not run every one: --collect-only,
    -k, -x, a deselection or a crashed xdist worker. Such a run never says compatible."""
    gate = run.gate
    total = len(gate.members()) + len(gate.profile_findings) + 1  # + the accepted-entries test
    if gate.settings.behaviour:
        total += len(gate.cells()) + len(gate.programs())
    return (len(run.ran), total) if len(run.ran) < total else None


def _xdist_workers(config) -> int:
    """How many xdist workers the controller ran (each stops its own behaviour workers)."""
    if in_xdist_worker(config):
        return 0
    dsession = config.pluginmanager.getplugin("dsession")
    specs = getattr(getattr(dsession, "nodemanager", None), "specs", None)
    return len(specs) if specs is not None else 0


def pytest_sessionfinish(session, exitstatus):
    """An interrupted gate stops its workers, says so in one line and exits 130 (SIGINT) or 143
    (SIGTERM, what CI timeouts send), like every compat command. A gate that did not run every
    unit fails (exit 1) whatever the units that ran found."""
    run = _run(session.config)
    if run is None:
        return
    if not run.interrupted and not in_xdist_worker(session.config):
        try:
            run.incomplete = _incomplete(run)
        except CompatError:
            run.incomplete = None  # the gate could not load: already failing
        if run.incomplete is not None and session.exitstatus in (0, 5):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        # behaviour entries of accepted.json are judged once every cell and program has run
        run.stale = [] if run.incomplete is not None or not run.gate.settings.behaviour else [
            e for e in run.gate.stale_accepted(run.findings) if getattr(RULES.get(e.rule), "layer", None) in REPLAY_LAYERS]
        if run.stale and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if run.interrupted:
        sig, code = run.interrupted[-1]
        stopped = signals.stop_all_final() + _xdist_workers(session.config)
        if not in_xdist_worker(session.config):
            # an xdist worker is interrupted too when the controller tears it down (its stderr is
            # the controller's): the run's one line is the controller's
            sys.stderr.write(f"compat: interrupted by {sig}; stopped {stopped} worker(s) and removed this run's temp dirs\n")
        session.exitstatus = code


def pytest_unconfigure(config):
    run = _run(config)
    if run is not None and run.interrupted and run.session is not None and not in_xdist_worker(config) \
            and run.session.exitstatus not in (130, 143):
        # interrupted before the session began (pytest then skips sessionfinish): said here
        sig, code = run.interrupted[-1]
        stopped = signals.stop_all_final()
        sys.stderr.write(f"compat: interrupted by {sig}; stopped {stopped} worker(s) and removed this run's temp dirs\n")
        run.session.exitstatus = code
    if run is not None and run.fork_server is not None:
        run.fork_server.close()
    if _collects_gate(config) and "tempdirs" in globals():
        tempdirs.stop_all()  # after an interrupt, no worker outlives the run
        if run is not None and run.interrupted and not in_xdist_worker(config):
            # xdist workers stopped mid-cell leave their behaviour workers' homes: each names its
            # dead owner, so the controller removes them now rather than the next run
            tempdirs.sweep_stale()


def pytest_generate_tests(metafunc):
    run = _run(metafunc.config)
    if run is None:
        return
    gate = run.gate
    if "compat_member" in metafunc.fixturenames:
        metafunc.parametrize("compat_member", gate.members(), ids=str)
    if "compat_profile" in metafunc.fixturenames:
        metafunc.parametrize("compat_profile", sorted(gate.profile_findings), ids=str)
    if "compat_cell" in metafunc.fixturenames:
        cells = gate.cells() if gate.settings.behaviour else []
        metafunc.parametrize("compat_cell", cells, ids=str)
    if "compat_program" in metafunc.fixturenames:
        programs = gate.programs() if gate.settings.behaviour else []
        metafunc.parametrize("compat_program", programs, ids=str)


@pytest.fixture(scope="session")
def compat_gate(pytestconfig) -> Gate:
    return pytestconfig.stash[RUN].gate


@pytest.fixture
def compat_record(request):
    """Attach findings to the test report, so the controller can write one report under xdist."""

    request.node.user_properties.append((_UNIT_KEY, request.node.nodeid))

    def record(findings: list[Finding]) -> None:
        if findings:
            request.node.user_properties.append((_FINDINGS_KEY, json.dumps([f.to_dict() for f in findings])))

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed unit's line in pytest's summary keeps the finding's first line: under `CI` pytest
    prints the whole message there, and a gate's message carries the old and new code."""
    outcome = yield
    run = _run(item.config)
    if run is not None and run.short_tb:
        crash = getattr(outcome.get_result().longrepr, "reprcrash", None)
        if crash is not None and crash.message:
            crash.message = crash.message.split("\n", 1)[0]




@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, config):
    """After pytest's own summary (its one line per failed unit included), so that a red gate's
    last screen is the verdict and the causes."""
    yield
    _summary(terminalreporter, config)


def _summary(terminalreporter, config) -> None:
    def say(line: str) -> None:  # names from a baseline are shown escaped, never obeyed
        terminalreporter.write_line(escape_unsafe(line))

    run = _run(config)
    if run is None:
        return
    if run.update_summary:
        terminalreporter.write_sep("-", "compat baseline updated")
        say(run.update_summary)
    gate = run.gate
    if in_xdist_worker(config):
        return
    findings = sort_findings(_unique(run.findings))
    incomplete = run.incomplete
    result = gate.result(findings, incomplete=incomplete)
    if result.replay is not None:
        say(f"compat: {gate.selection.line()}")
    for w in result.warnings:
        say(f"compat: {w}")
    if gate.settings.report:
        try:
            written = result.write(gate.settings.report, "markdown", gate.settings.fail_on)
        except CompatError as exc:  # a full disk: one line, and the run fails
            say(f"compat: {exc}")
            if terminalreporter._session is not None and not terminalreporter._session.exitstatus:
                terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            say(f"compat: report written to {written[0]}" + (
                f" (cut to fit a pull-request comment; complete: {written[1]})" if len(written) > 1 else ""))
    # every stale entry on the last screen: a unit's own failure line is cut to the terminal's width
    for e in gate.stale_accepted():
        say(f"compat: stale accepted entry: {e.rule} {e.member} ({e.reason}); no finding matches it any more, "
            "remove it")
    for e in run.stale:
        say(f"compat: stale accepted entry: {e.rule} {e.member} ({e.reason}); no behaviour "
                                    "finding matches it any more, remove it")
    if incomplete is not None and not findings:
        say(f"compat: {result.verdict_line(gate.settings.fail_on)}")
    if findings:
        # verdict first, then the causes, one per line: what a reviewer acts on
        terminalreporter.write_sep("-", "compat causes")
        say(result.verdict_line(gate.settings.fail_on))
        serious = [c for c in result.causes if c.severity != "info"]
        for i, c in enumerate(serious, 1):
            say(f"{i:>3}. {c.severity:<8} {c.title}" + (f"  ({c.location})" if c.location else ""))
        if result.accepted:
            say(f"compat: {len(result.accepted)} accepted findings, not counted "
                                        "(accepted.json):")
            for f, reason in result.accepted[:10]:
                say(f"     accepted {f.rule} {f.member}: {reason}")
        info = len(result.causes) - len(serious)
        say(f"compat: {len(findings)} findings in {len(result.causes)} causes ({info} info) "
                                    f"against baseline {gate.base.path.name}")
        if run.short_tb and terminalreporter.stats.get("failed"):
            say("compat: each failed unit's old and new code: --tb=short; every cause in "
                                        "full: --compat-report FILE")


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = json.dumps(f.to_dict(), sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def pytest_collection_modifyitems(session, config, items):
    """Start this process's behaviour worker while the static tests run: importing dagster in
    the worker then overlaps with them instead of delaying the first behaviour cell."""
    run = _run(config)
    if run is not None and run.gate.settings.behaviour and run.gate.selection.cells and any(
            "compat_cell" in getattr(item, "fixturenames", ()) for item in items):
        run.replayer = Replayer(run.gate, getattr(config, "workerinput", {}).get(_SERVER_KEY))
        run.replayer.start()


_SERVER_KEY = "compat_fork_server"
_DECIDED_KEY = "compat_decided"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """Under xdist, the controller hands each worker the static findings and what to replay
    (decided once, not per worker) and starts one fork server as the first worker is set up,
    while the workers start and collect: every xdist worker's behaviour and fuzz worker is then
    a fork of it, warm, instead of an interpreter importing dagster of its own."""
    run = _run(node.config)
    if run is None:
        return
    gate = run.gate
    if run.decided is None:
        run.decided = gate.decided()
    node.workerinput[_DECIDED_KEY] = run.decided
    if not gate.settings.behaviour:
        return
    if not forkserver.usable() or not (gate.selection.cells or gate.selection.programs):
        return
    if run.fork_server is None:
        run.fork_server = _ServerStart(python_for_gate(gate.settings))
    node.workerinput[_SERVER_KEY] = run.fork_server.path


class _ServerStart:
    """A fork server started in the background; its socket's path is known at once (a worker
    that connects early waits in the socket's backlog until the server is warm)."""

    def __init__(self, python: str) -> None:
        import threading

        self.server = None
        home = tempdirs.worker_home()
        self.path = forkserver.socket_path(home)
        self._thread = threading.Thread(target=self._start, args=(python, home), daemon=True)
        self._thread.start()

    def _start(self, python: str, home: Path) -> None:
        try:
            self.server = replay.fork_server(python, 2, home=home)
        except CompatError:
            pass  # each xdist worker then starts its own behaviour worker, and reports why it cannot

    def close(self) -> None:
        if self._thread.is_alive():  # still starting (a hung interpreter): the run is over, stop it
            tempdirs.stop_all()
        self._thread.join()
        if self.server is not None:
            self.server.close()


def _start_worker(make, server: str | None):
    """``make(server)``: a fork of the controller's warmed server while there is one, else a
    worker of its own (and no server for the next start). Returns the worker and the server."""
    if server is not None:
        try:
            return make(server), server
        except CompatError:
            pass
    return make(None), None

class Replayer:
    """One behaviour worker per pytest process (per xdist worker), started in the background
    once collection shows behaviour cells."""

    def __init__(self, gate: Gate, server: str | None = None):
        self.gate = gate
        self.server = server
        self.worker = None
        self._starting = None

    def start(self) -> None:
        import threading

        def spawn() -> None:
            try:
                self._spawn()
            except CompatError:
                pass  # reported by the first cell, which retries the start

        self._starting = threading.Thread(target=spawn, daemon=True)
        self._starting.start()

    def _spawn(self) -> None:
        self.worker, self.server = _start_worker(
            lambda server: replay.Worker(python_for_gate(self.gate.settings), server=server), self.server)

    def replay(self, cell_stem: str) -> list[Finding]:
        """The cell's findings on the new side; a cell the change cannot reach keeps its recorded
        verdict (identical to the old side) without running."""
        if not self.gate.replays_cell(cell_stem):
            return []
        path = self.gate.base.path / "traces" / f"{cell_stem}.json"
        try:
            old = self.gate.base.read_trace(path)
        except CompatError as exc:  # a damaged baseline file: a harness problem, shown as one line
            pytest.fail(escape_unsafe(f"compat: {exc}"), pytrace=False)
        try:
            if self._starting is not None:
                self._starting.join()
                self._starting = None
            if self.worker is None or self.worker.proc.poll() is not None:
                self._spawn()
            new = self.worker.run(dict(old["cell"]))
        except CompatError as exc:
            self.worker = None
            return [replay._finding(replay.RULE_CELL, old["cell"], str(exc), "cell ran", str(exc))]
        return replay.divergences(old, new)

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
        if self.worker is not None:
            self.worker.close()


class ProgramReplayer:
    """One fuzz worker per pytest process, for the stored programs; started on first use."""

    def __init__(self, gate: Gate, server: str | None = None):
        self.gate = gate
        self.server = server
        self.worker = None
        self.programs = {}

    def replay(self, program: str) -> list[Finding]:
        if not self.gate.replays_program(program):
            return []  # the change cannot reach it: the recorded verdict stands
        if not self.programs:
            self.programs = {differential.program_id(i, p): (i, p) for i, p in enumerate(self.gate.base.programs())}
        index, prog = self.programs[program]
        labels = (self.gate.base.label, self.gate.new_label)
        try:
            if self.worker is None or self.worker.proc.poll() is not None:
                self.worker = self._start()
            results = differential.run_stored(self.worker, prog)
        except CompatError as exc:
            self.worker = None
            return [Finding(rule=differential.FUZZ_MISMATCH.id, severity=differential.FUZZ_MISMATCH.severity, audience=differential.FUZZ_MISMATCH.audience,
                            member=program, message=f"stored program {program} could not run: {exc}", source="fuzz")]
        finding = differential.compare_stored(index, prog, results, labels)
        return [finding] if finding is not None else []

    def _start(self):
        worker, self.server = _start_worker(lambda server: differential.FuzzWorker(
            python_for_gate(self.gate.settings), self.gate.new_label, server=server), self.server)
        return worker

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


@pytest.fixture(scope="session")
def compat_program_replayer(pytestconfig, compat_gate):
    replayer = ProgramReplayer(compat_gate, getattr(pytestconfig, "workerinput", {}).get(_SERVER_KEY))
    yield replayer
    replayer.close()


@pytest.fixture(scope="session")
def compat_replayer(pytestconfig, compat_gate):
    replayer = pytestconfig.stash[RUN].replayer or Replayer(compat_gate)
    yield replayer
    replayer.close()

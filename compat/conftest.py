"""pytest plugin of the gate: `pytest compat/ [--compat-baseline DIR] [--compat-update] [-n auto]`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compat.behaviour import replay
from compat.causes import verdict
from compat.fuzz import differential
from compat.gate.gate import Gate, Settings, in_xdist_worker, python_for_gate
from compat.gate.update import update_baseline
from compat.model.errors import CompatError
from compat.model.findings import FAIL_ON, Finding, sort_findings
from compat.model.jsonio import read_json
from compat.model.trace import TRACE_SCHEMA, TRACE_VERSION

_FINDINGS_KEY = "compat_findings"


def pytest_addoption(parser):
    group = parser.getgroup("compat", "subclass-compatibility gate (also settable in [tool.compat])")
    group.addoption("--compat-baseline", metavar="DIR", help="baseline directory (default: snapshots/baseline)")
    group.addoption("--compat-target", metavar="MODULE:CLASS", help="class under test (default: the baseline's)")
    group.addoption("--compat-update", action="store_true", help="re-record the baseline, atomically, and show what changed")
    group.addoption("--compat-report", metavar="FILE", help="write a markdown report of every finding to FILE")
    group.addoption("--compat-fail-on", choices=FAIL_ON,
                    help="severity that fails a test (runtime: breaking, leaving out type-checker-only breaks)")
    group.addoption("--compat-python", metavar="PY", help="check the dagster of this interpreter instead of the installed one")
    group.addoption("--compat-no-behaviour", action="store_true", help="skip the behaviour replay cells")


def _settings(config) -> Settings:
    opts = {
        "baseline": config.getoption("compat_baseline"),
        "target": config.getoption("compat_target"),
        "update": config.getoption("compat_update"),
        "report": config.getoption("compat_report"),
        "fail_on": config.getoption("compat_fail_on"),
        "python": config.getoption("compat_python"),
    }
    settings = Settings.resolve(opts, Path(config.rootpath))
    if config.getoption("compat_no_behaviour"):
        settings.behaviour = False
    return settings


def pytest_configure(config):
    try:
        settings = _settings(config)
        if settings.update and not in_xdist_worker(config):
            summary = update_baseline(settings)
            config._compat_update_summary = summary  # shown in the terminal summary
        config._compat_gate = Gate(settings)
    except CompatError as exc:
        raise pytest.UsageError(f"compat: {exc}") from None
    config._compat_collected = []


def pytest_generate_tests(metafunc):
    gate: Gate = metafunc.config._compat_gate
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
    return pytestconfig._compat_gate


@pytest.fixture
def compat_record(request):
    """Attach findings to the test report, so the controller can write one report under xdist."""

    def record(findings: list[Finding]) -> None:
        if findings:
            request.node.user_properties.append((_FINDINGS_KEY, json.dumps([f.to_dict() for f in findings])))

    return record


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    for key, value in report.user_properties:
        if key == _FINDINGS_KEY:
            _collected().extend(Finding.from_dict(d) for d in json.loads(value))


_STATE: dict = {}


def _collected() -> list[Finding]:
    return _STATE.setdefault("findings", [])


def pytest_terminal_summary(terminalreporter, config):
    summary = getattr(config, "_compat_update_summary", None)
    if summary:
        terminalreporter.write_sep("-", "compat baseline updated")
        terminalreporter.write_line(summary)
    gate: Gate | None = getattr(config, "_compat_gate", None)
    if gate is None or in_xdist_worker(config):
        return
    findings = sort_findings(_unique(_collected()))
    result = gate.result(findings)
    if gate.settings.report:
        written = result.write(gate.settings.report, "markdown", gate.settings.fail_on)
        terminalreporter.write_line(f"compat: report written to {written[0]}"
                                    + (f" (cut to fit a pull-request comment; complete: {written[1]})" if len(written) > 1 else ""))
    if findings:
        # verdict first, then the causes, one per line: what a reviewer acts on
        terminalreporter.write_sep("-", "compat causes")
        terminalreporter.write_line(verdict(result.causes, gate.settings.fail_on))
        serious = [c for c in result.causes if c.severity != "info"]
        for i, c in enumerate(serious, 1):
            terminalreporter.write_line(f"{i:>3}. {c.severity:<8} {c.title}" + (f"  ({c.location})" if c.location else ""))
        info = len(result.causes) - len(serious)
        terminalreporter.write_line(f"compat: {len(findings)} findings in {len(result.causes)} causes ({info} info) "
                                    f"against baseline {gate.base.path.name}")


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
    gate = getattr(config, "_compat_gate", None)
    if gate is not None and any("compat_cell" in getattr(item, "fixturenames", ()) for item in items):
        config._compat_replayer = Replayer(gate)
        config._compat_replayer.start()


class Replayer:
    """One behaviour worker per pytest process (per xdist worker), started in the background
    once collection shows behaviour cells."""

    def __init__(self, gate: Gate):
        self.gate = gate
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
        self.worker = replay.Worker(python_for_gate(self.gate.settings))

    def replay(self, cell_stem: str) -> list[Finding]:
        path = self.gate.base.path / "traces" / f"{cell_stem}.json"
        try:
            old = read_json(path, schema=TRACE_SCHEMA, versions=(TRACE_VERSION,))
        except CompatError as exc:  # a damaged baseline file: a harness problem, shown as one line
            pytest.fail(f"compat: {exc}", pytrace=False)
        try:
            if self._starting is not None:
                self._starting.join()
                self._starting = None
            if self.worker is None or self.worker.proc.poll() is not None:
                self._spawn()
            new = self.worker.run(dict(old["cell"]))
        except CompatError as exc:
            self.worker = None
            return [replay._finding(replay.RULE_CELL, old["cell"], str(exc), None, None)]
        finding = replay.compare(old, new)
        return [finding] if finding is not None else []

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
        if self.worker is not None:
            self.worker.close()


class ProgramReplayer:
    """One fuzz worker per pytest process, for the stored programs; started on first use."""

    def __init__(self, gate: Gate):
        self.gate = gate
        self.worker = None
        self.programs = {}

    def replay(self, program: str) -> list[Finding]:
        if not self.programs:
            self.programs = {differential.program_id(i, p): (i, p) for i, p in enumerate(self.gate.base.programs())}
        index, prog = self.programs[program]
        labels = (self.gate.base.label, self.gate.new_label)
        try:
            if self.worker is None or self.worker.proc.poll() is not None:
                self.worker = differential.FuzzWorker(python_for_gate(self.gate.settings), self.gate.new_label)
            results = differential.run_stored(self.worker, prog)
        except CompatError as exc:
            self.worker = None
            return [Finding(rule=differential.FUZZ_MISMATCH.id, severity=differential.FUZZ_MISMATCH.severity, audience=differential.FUZZ_MISMATCH.audience,
                            member=program, message=f"stored program {program} could not run: {exc}", source="fuzz")]
        finding = differential.compare_stored(index, prog, results, labels)
        return [finding] if finding is not None else []

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


@pytest.fixture(scope="session")
def compat_program_replayer(compat_gate):
    replayer = ProgramReplayer(compat_gate)
    yield replayer
    replayer.close()


@pytest.fixture(scope="session")
def compat_replayer(pytestconfig, compat_gate):
    replayer = getattr(pytestconfig, "_compat_replayer", None) or Replayer(compat_gate)
    yield replayer
    replayer.close()

"""`compat perf`: hot paths timed through a corpus subclass in two workers, with verdicts."""

from __future__ import annotations

import sys

import pytest

from compat.tools import perf
from compat.model.errors import CompatError


def test_verdicts_need_both_the_ratio_and_the_noise_floor():
    assert perf.Timing("x", 1e-3, 1.5e-3, 0.25).regressed  # +50%, 0.5 ms
    assert not perf.Timing("x", 1e-3, 1.2e-3, 0.25).regressed  # within the threshold
    assert not perf.Timing("x", 1e-6, 1e-5, 0.25).regressed  # 10x, but 9 us: below the noise floor
    text = perf.render([perf.Timing("create_run_for_job", 1e-3, 2e-3, 0.25),
                        perf.Timing("get_runs", 1e-3, 0.5e-3, 0.25)], ("a", "b"), "spy", "sqlite")
    assert "REGRESSION" in text and "faster" in text


def test_same_interpreter_times_every_bench_through_the_subclass():
    timings = perf.measure(sys.executable, sys.executable, labels=("a", "b"), storage="memory", rounds=2, calls=3)
    benches = {t.bench for t in timings}
    assert {"create_run_for_job", "report_engine_event", "get_settings", "get_runs"} <= benches
    assert all(t.old > 0 and t.new > 0 for t in timings)


def test_broken_interpreter_is_a_harness_error(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(CompatError, match="perf worker for broken .*crashed during start-up"):
        perf.PerfWorker(str(fake), "broken", "spy", "memory")

"""Stored programs replayed by several workers forked from one warmed interpreter give the
findings one worker started alone gives, in the programs' order."""

from __future__ import annotations

import sys
from pathlib import Path

from compat.behaviour import replay
from compat.fuzz import differential

ROOT = Path(__file__).resolve().parent.parent


def test_programs_shared_by_forked_workers_give_the_findings_of_one_worker_alone():
    programs = differential.load_programs(ROOT / "snapshots" / "baseline-1.11.4" / differential.PROGRAMS_FILE)
    # every third program: some of them lost the create_run override's dispatch on the installed dagster
    only = [differential.program_id(i, p) for i, p in enumerate(programs) if i % 3 == 0]
    labels = ("dagster 1.11.4", "installed")
    alone = differential.replay_programs(programs, sys.executable, labels, only=only)
    server = replay.fork_server(sys.executable, 2)
    assert server is not None
    try:
        shared = differential.replay_programs(programs, sys.executable, labels, only=only, jobs=2, server=server.path)
    finally:
        server.close()
    assert alone, "the sample must hold findings, or the comparison below shows nothing"
    assert [f.to_dict() for f in shared] == [f.to_dict() for f in alone]

"""Module-level definitions for behaviour scenarios that need a reconstructable job (run
launchers rebuild the job from its code origin, so it must be importable by module path)."""

from __future__ import annotations

import dagster as dg


@dg.op
def launched_op() -> int:
    return 3


@dg.job(tags={"launched": "yes"}, executor_def=dg.in_process_executor)
def launched_job():
    launched_op()

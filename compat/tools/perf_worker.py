"""Worker for `compat perf`: times hot instance methods through a corpus subclass.

Requests (JSON lines): ``{"bench": NAME, "n": N}`` runs NAME N times on the live instance and
replies ``{"ok": true, "seconds": per-call seconds}``; ``{"op": "exit"}`` ends the worker.
Argument (argv[1]): ``{"subclass": S, "storage": T}``. Imports: stdlib, dagster, and compat
modules that import only those.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Callable


def benches(instance: Any) -> dict[str, Callable[[], Any]]:
    import dagster as dg
    from dagster import RunsFilter
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    @dg.op
    def noop() -> int:
        return 1

    @dg.job(name="perf_job")
    def perf_job():
        noop()

    seed = [instance.add_run(DagsterRun(job_name="perf_job", run_id=f"{i:08d}-0000-4000-8000-000000000000",
                                        tags={"i": str(i % 3)}, status=DagsterRunStatus.SUCCESS))
            for i in range(50)]
    target = seed[0]
    counter = [0]

    def create_run():
        counter[0] += 1
        return instance.create_run_for_job(job_def=perf_job, tags={"n": str(counter[0])})

    return {
        "create_run_for_job": create_run,
        "report_engine_event": lambda: instance.report_engine_event("perf", target),
        "get_settings": lambda: instance.get_settings("run_retries"),
        "run_retries_enabled": lambda: instance.run_retries_enabled,
        "telemetry_enabled": lambda: instance.telemetry_enabled,
        "get_runs": lambda: instance.get_runs(filters=RunsFilter(tags={"i": "1"}), limit=10),
        "get_runs_count": lambda: instance.get_runs_count(),
        "get_run_by_id": lambda: instance.get_run_by_id(target.run_id),
    }


def main() -> int:
    from compat.worker.instance import build_instance
    from compat.channel import requests, serve

    send = serve()
    args = json.loads(sys.argv[1])
    instance = build_instance(args["subclass"], os.environ["DAGSTER_HOME"], args["storage"])
    table = benches(instance)
    import dagster

    send({"hello": True, "dagster_version": dagster.__version__, "benches": sorted(table)})
    for req in requests():
        fn = table[req["bench"]]
        n = int(req["n"])
        t = time.perf_counter()
        for _ in range(n):
            fn()
        send({"ok": True, "seconds": (time.perf_counter() - t) / n})
    instance.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the smoke checks share: a fresh directory per instance inside the smoke process's temp
dir, an outcome as data (a value or the error, never a crash), an instance built and disposed
of, and a tiny job with runs and log entries to feed it. Imports: stdlib, dagster and the corpus.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from compat.corpus import make_instance


_TMP_ROOT: str | None = None
_COUNTER = [0]


def set_root(root: str | None) -> None:
    """Where :func:`_fresh_dir` makes directories: the smoke process's own temp dir (set by its main)."""
    global _TMP_ROOT
    _TMP_ROOT = root


def _fresh_dir() -> str:
    assert _TMP_ROOT is not None
    _COUNTER[0] += 1
    path = os.path.join(_TMP_ROOT, f"d{_COUNTER[0]:04d}")
    os.makedirs(path)
    return path


def _outcome(fn: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"ok": True, "value": _jsonable(fn())}
    except Exception as exc:  # a failing check is a result
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"ok": False, "error": f"{type(exc).__name__}: {message}"[:300]}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    if hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


class _Built:
    """Context manager: a fresh instance of ``name`` that is disposed afterwards."""

    def __init__(self, name: str, storage: str = "sqlite", via: str = "yaml"):
        self.name, self.storage, self.via = name, storage, via
        self.base_dir = _fresh_dir()
        self.instance: Any = None

    def __enter__(self):
        self.instance = make_instance(self.name, self.base_dir, storage=self.storage, via=self.via)
        return self.instance

    def __exit__(self, *exc: Any) -> None:
        try:
            self.instance.dispose()
        except Exception:
            pass


def _job():
    from dagster import job, op

    @op
    def corpus_op():
        return 1

    @job
    def corpus_job():
        corpus_op()

    return corpus_job


def _log_entry(run_id: str, level: int, message: str):
    from dagster._core.events.log import EventLogEntry

    return EventLogEntry(
        error_info=None, level=level, user_message=message, run_id=run_id, timestamp=time.time()
    )


def _create_run_directly(instance, job_def, tags):
    return instance.create_run(
        job_name=job_def.name, run_id=None, run_config=None, status=None, tags=tags,
        root_run_id=None, parent_run_id=None, step_keys_to_execute=None,
        execution_plan_snapshot=None, job_snapshot=None, parent_job_snapshot=None,
        asset_selection=None, asset_check_selection=None, resolved_op_selection=None,
        op_selection=None, remote_job_origin=None, job_code_origin=None,
        asset_graph=job_def.asset_layer.asset_graph,
    )

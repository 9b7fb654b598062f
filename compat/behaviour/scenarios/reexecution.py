"""Re-execution of a failed run through a code location loaded in process, as the UI and the
retry daemon do: the run ``create_reexecuted_run`` makes for each strategy.

Without a code location no cell got past ``create_reexecuted_run``'s first checks, so which
steps a retry runs, the tags it carries (``dagster/is_resume_retry``, the parent's, the
caller's) and its parent and root run were never recorded. The location is loaded in this
process from a file of the cell's own (no code server), which needs a persistent instance: the
scenario runs on sqlite only.
"""

from __future__ import annotations

from typing import Any

from compat.behaviour.scenarios.common import _fresh_dir, _import
from compat.behaviour.scenarios.registry import Ctx, scenario

DEFS = '''\
from dagster import Definitions, in_process_executor, job, op


@op
def emit():
    return 1


@op
def boom(x):
    raise Exception("boom")


@job(tags={"team": "compat"}, executor_def=in_process_executor)
def failing_job():
    boom(emit())


defs = Definitions(jobs=[failing_job])
'''


@scenario("runs_reexecution_from_location", "runs", storages=("sqlite",))
def runs_reexecution_from_location(instance, ctx: Ctx):
    """A job that fails in its second step, executed; then ``create_reexecuted_run`` of it from an
    in-process code location with each strategy, with and without the parent's tags, extra tags
    and another run config: each new run's status, steps, tags, parents and config."""
    import inspect
    import os
    import sys

    from dagster import execute_job
    from dagster._core.definitions.reconstruct import ReconstructableJob
    from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    origin_class = _import("InProcessCodeLocationOrigin", "dagster._core.remote_origin",
                           "dagster._core.remote_representation.origin")
    where = _fresh_dir(ctx.tmpdir, "reexecution")
    path = os.path.join(where, "compat_reexecution_defs.py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(DEFS)
    result = execute_job(ReconstructableJob.for_file(path, "failing_job"), instance, raise_on_error=False)
    parent = instance.get_run_by_id(result.run_id)
    ctx.put("parent_status", parent.status)
    # a run with a code origin and no remote one (executed from a file): submit_run refuses it
    # on the remote origin, before it looks at the code origin or the run's status
    ctx.step("submit_without_remote_origin", lambda: instance.submit_run(parent.run_id, None).status)
    instance.add_run_tags(parent.run_id, {"owner": "compat"})
    parent = instance.get_run_by_id(parent.run_id)

    def described(run) -> dict[str, Any]:
        # the tags the instance adds to the job's own (which come from the code location: 1.13
        # adds the location's name there), and whether it keeps the job's
        ids = {parent.run_id: "<parent>"}
        job_tags = remote_job.tags
        return {"status": run.status, "job_name": run.job_name, "step_keys_to_execute": run.step_keys_to_execute,
                "tags": {k: ids.get(v, v) for k, v in sorted(run.tags.items()) if job_tags.get(k) != v},
                "keeps_job_tags": all(run.tags.get(k) == v for k, v in job_tags.items()),
                "parent_run_id": ids.get(run.parent_run_id, run.parent_run_id),
                "root_run_id": ids.get(run.root_run_id, run.root_run_id), "run_config": run.run_config,
                "op_selection": run.op_selection, "is_new_run": run.run_id not in ids}

    origin = origin_class(loadable_target_origin=LoadableTargetOrigin(
        executable_path=sys.executable, python_file=path, working_directory=where, attribute="defs"),
        location_name="compat_reexecution")
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget([origin])) as process_context:
        request_context = process_context.create_request_context()
        location = request_context.get_code_location("compat_reexecution")
        remote_job = next(iter(location.get_repositories().values())).get_full_job("failing_job")
        # 1.13 takes the workspace's request context first; older releases have no such parameter
        context = ({"request_context": request_context}
                   if "request_context" in inspect.signature(instance.create_reexecuted_run).parameters else {})

        def reexecute(strategy, **kwargs):
            return described(instance.create_reexecuted_run(
                **context, parent_run=parent, code_location=location, remote_job=remote_job,
                strategy=strategy, **kwargs))

        ctx.step("from_failure", reexecute, ReexecutionStrategy.FROM_FAILURE)
        ctx.step("from_failure:parent_tags", reexecute, ReexecutionStrategy.FROM_FAILURE,
                 use_parent_run_tags=True, extra_tags={"extra": "yes"})
        ctx.step("all_steps", reexecute, ReexecutionStrategy.ALL_STEPS, run_config={"ops": {}})
        ctx.step("all_steps:parent_tags", reexecute, ReexecutionStrategy.ALL_STEPS, use_parent_run_tags=True)
        ctx.step("from_asset_failure", reexecute, ReexecutionStrategy.FROM_ASSET_FAILURE)
    return ctx.results

"""Definitions several domains share: a small ops job, instigator origins, asset keys, dagster
names looked up across versions, and the helpers that let a scenario ask for a member an older
release lacks (the lookup's exception is recorded instead).
"""

from __future__ import annotations

import importlib
from typing import Any

from compat.behaviour.scenarios.registry import Ctx


def _import(name: str, *modules: str) -> Any:
    """A dagster name from the first module that has it (modules move between versions)."""
    for mod in modules:
        try:
            return getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"{name} not found in {', '.join(modules)}")



def _ops_job(name: str = "ops_job", fail: bool = False):
    import dagster as dg

    @dg.op
    def emit() -> int:
        return 2

    @dg.op
    def double(x: int) -> int:
        if fail:
            raise ValueError("deliberate failure in double")
        return x * 2

    @dg.op
    def report(context, y: int) -> int:
        context.log.info(f"value is {y}")
        return y + 1

    @dg.job(name=name, tags={"owner": "compat"})
    def the_job():
        report(double(emit()))

    return the_job



def _origin(name: str):
    mods = ("dagster._core.remote_origin", "dagster._core.remote_representation.origin")
    RegisteredCodeLocationOrigin = _import("RegisteredCodeLocationOrigin", *mods)
    RemoteRepositoryOrigin = _import("RemoteRepositoryOrigin", *mods)
    RemoteInstigatorOrigin = _import("RemoteInstigatorOrigin", *mods)
    repo = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("compat_location"), "compat_repo")
    return RemoteInstigatorOrigin(repo, name)



def _asset(key: str | list[str]):
    import dagster as dg

    return dg.AssetKey(key)



def _assets_defs():
    import dagster as dg

    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    regions = dg.DynamicPartitionsDefinition(name="regions")

    @dg.asset(partitions_def=daily)
    def upstream(context) -> int:
        return len(context.partition_key)

    @dg.asset(partitions_def=daily)
    def downstream(upstream: int) -> int:
        return upstream + 1

    @dg.asset(partitions_def=regions)
    def by_region(context) -> str:
        return context.partition_key.upper()

    @dg.asset
    def unpartitioned() -> int:
        return 7

    return upstream, downstream, by_region, unpartitioned



def _value_of(instance, name: str, *args: Any, **kwargs: Any) -> Any:
    v = getattr(instance, name)
    return v(*args, **kwargs) if callable(v) else v



def _fresh_dir(parent: str, name: str) -> str:
    import os

    path = os.path.join(parent, name)
    os.makedirs(path, exist_ok=True)
    return path



MISSING_RUN = "ffffffff-ffff-ffff-ffff-ffffffffffff"



def _refusals(ctx: Ctx, calls) -> dict[str, Any]:
    for label, fn in calls:
        ctx.step(label, fn)
    return ctx.results


def _job_def(defs, name: str):
    """A job of a Definitions object, resolved (``resolve_job_def`` where the release has it:
    ``get_job_def`` warns about asset jobs there)."""
    return getattr(defs, "resolve_job_def", defs.get_job_def)(name)

"""Deterministic scenarios: a piece of work on a fresh instance, one per responsibility domain.

Each scenario is a function ``(instance, ctx) -> JSON-able result`` registered under a stable
name in ``SCENARIOS``. It runs on a fresh instance in its own temp dir, through the subclass
under test, and uses only APIs that exist in every dagster version the harness drives (the
monolithic 1.11.4 class through the current mixin-based one). Individual steps go through
``ctx.step`` so that an exception becomes data in the result instead of ending the scenario;
a step also records every warning it emitted, and whether its value is the very object an
earlier step returned or one the instance holds (a caller mutating it then mutates that).

The registry and ``Ctx`` live in :mod:`.registry`, shared definitions in :mod:`.common`, and the
scenarios in one module per domain; importing this package registers all of them.
Imports only the standard library at import time; dagster is imported inside the scenarios.
"""

from __future__ import annotations

from compat.behaviour.scenarios import (  # noqa: F401 - importing a domain module registers its scenarios
    arguments, assets, configuration, errors, execution, locations, reexecution, refs, runs, schedules, storage,
)
from compat.behaviour.scenarios.common import MISSING_RUN, _asset, _import, _ops_job, _origin, _value_of
from compat.behaviour.scenarios.configuration import (
    ACCEPTED_CONFIGS, CUSTOM_SETTINGS, REFUSED_CONFIGS, SETTING_READERS, UNBUILT_CONFIGS,
)
from compat.behaviour.scenarios.registry import (
    ATTRIBUTES_AT_START, DOMAINS, FIXED_TS, SCENARIOS, STORAGES, Ctx, Scenario, names, scenario,
)

__all__ = [
    "ACCEPTED_CONFIGS", "ATTRIBUTES_AT_START", "CUSTOM_SETTINGS", "DOMAINS", "FIXED_TS", "MISSING_RUN",
    "REFUSED_CONFIGS", "SCENARIOS", "SETTING_READERS", "STORAGES", "UNBUILT_CONFIGS", "Ctx", "Scenario", "_asset", "_import",
    "_ops_job", "_origin", "_value_of", "names", "scenario",
]

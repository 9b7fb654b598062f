"""Mutation testing of the gate itself: known edits to a copy of the installed dagster.

Each mutation is a small source edit of the kind a refactor makes by accident (a renamed
parameter, a property turned into a method, a base method that stops dispatching through
`self`, a dropped side effect...) or on purpose without changing anything a subclass can feel
(annotation spelling, a docstring, a local rename, a method moved into a mixin). The gate must
fail on every breaking mutation ("killed") and pass on every equivalent one. Edits are written
against the dagster version this project pins; an edit whose text is not found is an error, so
a dagster upgrade cannot silently turn the self-check into a no-op.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from compat.behaviour import replay as behaviour_mod
from compat.fuzz.differential import replay_programs
from compat.model.baseline import Baseline, static_findings
from compat.model.errors import CompatError
from compat.model.findings import BREAKING, Finding
from compat.model.surface import Surface
from compat.result import CheckResult
from compat.static.extract import installed_search_paths, snapshot

M = "dagster/_core/instance/methods/"
I = "dagster/_core/instance/instance.py"


@dataclass(frozen=True)
class Edit:
    path: str  # relative to site-packages
    old: str
    new: str


@dataclass(frozen=True)
class Mutation:
    id: str
    breaking: bool  # True: the gate must fail; False: an equivalent edit it must pass
    description: str
    edits: tuple[Edit, ...]


def _run_manager(lookup: str) -> tuple[Edit, ...]:
    """get_run_by_id delegates to a module-level `_RunManager(instance)` whose method does
    the lookup with `lookup` (the "internal manager" refactor pattern)."""
    return (
        Edit(I, "DagsterInstanceOverrides: TypeAlias = Mapping[str, Any]\n",
             "DagsterInstanceOverrides: TypeAlias = Mapping[str, Any]\n\n\n"
             "class _RunManager:\n"
             "    def __init__(self, instance: \"DagsterInstance\"):\n"
             "        self._instance = instance\n\n"
             "    def get_run_by_id(self, run_id: str) -> DagsterRun | None:\n"
             + lookup +
             "        if record is None:\n"
             "            return None\n"
             "        return record.dagster_run\n"),
        Edit(I, "        record = self.get_run_record_by_id(run_id)\n"
                "        if record is None:\n"
                "            return None\n"
                "        return record.dagster_run\n",
             "        return _RunManager(self).get_run_by_id(run_id)\n"),
    )


# the manager reads the run storage itself: overrides of get_run_record_by_id are skipped
_RUN_MANAGER_READS_STORAGE = (
    "        if not run_id:\n"
    "            return None\n"
    "        records = self._instance._run_storage.get_run_records(RunsFilter(run_ids=[run_id]), limit=1)\n"
    "        record = records[0] if records else None\n"
)
# the manager goes back through the instance: overrides still run
_RUN_MANAGER_DISPATCHES = "        record = self._instance.get_run_record_by_id(run_id)\n"


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("renamed-parameter", True, "add_run_tags(new_tags) renamed to tags", (
        Edit(M + "run_methods.py",
             "def add_run_tags(self, run_id: str, new_tags: Mapping[str, str]) -> None:\n"
             "        return self._run_storage_impl.add_run_tags(run_id, new_tags)",
             "def add_run_tags(self, run_id: str, tags: Mapping[str, str]) -> None:\n"
             "        return self._run_storage_impl.add_run_tags(run_id, tags)"),
    )),
    Mutation("changed-default", True, "get_runs(ascending=False) now defaults to True", (
        Edit(M + "run_methods.py",
             "        ascending: bool = False,\n    ) -> Sequence[DagsterRun]:\n"
             "        return self._run_storage_impl.get_runs(",
             "        ascending: bool = True,\n    ) -> Sequence[DagsterRun]:\n"
             "        return self._run_storage_impl.get_runs("),
    )),
    Mutation("property-to-method", True, "telemetry_enabled is a method, no longer a property", (
        Edit(M + "settings_methods.py", "    @property\n    def telemetry_enabled(self) -> bool:",
             "    def telemetry_enabled(self) -> bool:"),
    )),
    Mutation("dropped-attribute", True, "__init__ no longer assigns self._ref", (
        Edit(I, '        self._ref = check.opt_inst_param(ref, "ref", InstanceRef)',
             '        check.opt_inst_param(ref, "ref", InstanceRef)'),
    )),
    Mutation("stopped-dispatch", True, "handle_new_event calls EventMethods.should_store_event directly", (
        Edit(M + "event_methods.py",
             "        from dagster._time import datetime_from_timestamp\n\n"
             "        if not self.should_store_event(event):",
             "        from dagster._time import datetime_from_timestamp\n\n"
             "        if not EventMethods.should_store_event(self, event):"),
    )),
    Mutation("changed-return", True, "get_backfills_count is off by one", (
        Edit(M + "scheduling_methods.py",
             "        return self._run_storage_impl.get_backfills_count(filters=filters)",
             "        return self._run_storage_impl.get_backfills_count(filters=filters) + 1"),
    )),
    Mutation("dropped-side-effect", True, "delete_dynamic_partition no longer deletes", (
        Edit(I, "        return self._event_storage.delete_dynamic_partition(partitions_def_name, partition_key)",
             "        return None"),
    )),
    Mutation("clashing-member", True, "the base adds a property named like a corpus subclass's method", (
        Edit(I, "    @property\n    def root_directory(self) -> str:",
             "    @property\n    def cloud_lookup(self) -> None:\n        return None\n\n"
             "    @property\n    def root_directory(self) -> str:"),
    )),
    Mutation("internal-manager", True,
             "get_run_by_id delegates to a _RunManager that reads _run_storage, not self.get_run_record_by_id",
             _run_manager(_RUN_MANAGER_READS_STORAGE)),
    Mutation("protected-rename", True,
             "_should_retry_run renamed _should_auto_retry_run, its handle_new_event call updated", (
        Edit(M + "event_methods.py", "    def _should_retry_run(self, run, run_failure_reason):",
             "    def _should_auto_retry_run(self, run, run_failure_reason):"),
        Edit(M + "event_methods.py", "self._should_retry_run(run, run_failure_reason)",
             "self._should_auto_retry_run(run, run_failure_reason)"),
    )),
    # side effects dropped, one storage at a time (the final-state dump must see each)
    Mutation("kept-events-of-deleted-run", True, "delete_run deletes the run but leaves its events in the event log", (
        Edit(I, "        self._run_storage.delete_run(run_id)\n        self._event_storage.delete_events(run_id)\n",
             "        self._run_storage.delete_run(run_id)\n"),
    )),
    Mutation("wipe-keeps-events", True, "wipe() wipes the run storage only; the event log keeps every event", (
        Edit(I, "        self._run_storage.wipe()\n        self._event_storage.wipe()\n",
             "        self._run_storage.wipe()\n"),
    )),
    Mutation("wipe-partitions-keeps-events", True,
             "wipe_asset_partitions reports the wipe but leaves the partitions' events in storage", (
        Edit(M + "asset_methods.py", "        self._event_storage_impl.wipe_asset_partitions(asset_key, partition_keys)\n", ""),
    )),
    Mutation("dropped-run-tags", True, "add_run_tags returns without writing the tags", (
        Edit(M + "run_methods.py", "        return self._run_storage_impl.add_run_tags(run_id, new_tags)",
             "        return None"),
    )),
    Mutation("dropped-backfill", True, "add_backfill no longer stores the backfill", (
        Edit(M + "scheduling_methods.py", "        self._run_storage_impl.add_backfill(partition_backfill)\n",
             "        return None\n"),
    )),
    Mutation("kept-instigator-state", True, "delete_instigator_state no longer deletes", (
        Edit(M + "scheduling_methods.py",
             "        return self._schedule_storage_impl.delete_instigator_state(origin_id, selector_id)",
             "        return None"),
    )),
    Mutation("dropped-tick-update", True, "update_tick returns the tick without storing it", (
        Edit(M + "scheduling_methods.py", "        return check.not_none(self._schedule_storage_impl).update_tick(tick)",
             "        return tick"),
    )),
    Mutation("wipe-schedules-keeps-storage", True, "wipe_all_schedules no longer wipes the schedule storage", (
        Edit(M + "scheduling_methods.py",
             "            check.failed(\"Schedule storage not available\")\n        self._schedule_storage_impl.wipe()\n",
             "            check.failed(\"Schedule storage not available\")\n"),
    )),
    Mutation("kept-heartbeats", True, "wipe_daemon_heartbeats no longer wipes", (
        Edit(M + "daemon_methods.py", "        self.run_storage.wipe_daemon_heartbeats()\n", "        return None\n"),
    )),
    Mutation("dropped-heartbeat", True, "add_daemon_heartbeat no longer stores the heartbeat", (
        Edit(M + "daemon_methods.py", "        self.run_storage.add_daemon_heartbeat(daemon_heartbeat)\n",
             "        return None\n"),
    )),
    # orders reversed
    Mutation("reversed-dynamic-partitions", True, "get_dynamic_partitions returns the keys newest first", (
        Edit(I, "        return self._event_storage.get_dynamic_partitions(partitions_def_name)\n",
             "        return list(reversed(self._event_storage.get_dynamic_partitions(partitions_def_name)))\n"),
    )),
    Mutation("reversed-backfills", True, "get_backfills returns the backfills oldest first", (
        Edit(M + "scheduling_methods.py",
             "        return self._run_storage_impl.get_backfills(\n"
             "            status=status, cursor=cursor, limit=limit, filters=filters\n        )",
             "        return list(reversed(self._run_storage_impl.get_backfills(\n"
             "            status=status, cursor=cursor, limit=limit, filters=filters\n        )))"),
    )),
    Mutation("reversed-ticks", True, "get_ticks returns the ticks oldest first", (
        Edit(M + "scheduling_methods.py",
             "            limit=limit,\n            statuses=statuses,\n        )\n\n"
             "    def create_tick(",
             "            limit=limit,\n            statuses=statuses,\n        )[::-1]\n\n"
             "    def create_tick("),
    )),
    # exceptions swallowed
    Mutation("swallowed-run-not-found", True, "add_run_tags swallows the error for a run that does not exist", (
        Edit(M + "run_methods.py", "        return self._run_storage_impl.add_run_tags(run_id, new_tags)",
             "        try:\n            return self._run_storage_impl.add_run_tags(run_id, new_tags)\n"
             "        except Exception:\n            return None"),
    )),
    Mutation("swallowed-backfill-check", True, "add_backfill swallows the check of its argument", (
        Edit(M + "scheduling_methods.py", "        self._run_storage_impl.add_backfill(partition_backfill)\n",
             "        try:\n            self._run_storage_impl.add_backfill(partition_backfill)\n"
             "        except Exception:\n            pass\n"),
    )),
    Mutation("swallowed-tick-check", True, "create_tick returns None instead of raising on invalid tick data", (
        Edit(M + "scheduling_methods.py", "        return check.not_none(self._schedule_storage_impl).create_tick(tick_data)",
             "        try:\n            return check.not_none(self._schedule_storage_impl).create_tick(tick_data)\n"
             "        except Exception:\n            return None  # type: ignore"),
    )),
    # settings read with another default
    Mutation("default-python-log-level", True, "python_log_level defaults to INFO instead of None", (
        Edit(M + "settings_methods.py", "        return python_log_settings.get(\"python_log_level\")",
             "        return python_log_settings.get(\"python_log_level\", \"INFO\")"),
    )),
    Mutation("default-start-timeout", True, "run_monitoring_start_timeout_seconds defaults to 300 instead of 180", (
        Edit(M + "settings_methods.py", "        return self.run_monitoring_settings.get(\"start_timeout_seconds\", 180)",
             "        return self.run_monitoring_settings.get(\"start_timeout_seconds\", 300)"),
    )),
    Mutation("default-max-retries", True, "run_retries_max_retries defaults to 1 instead of 0", (
        Edit(M + "settings_methods.py", "        return self.get_settings(\"run_retries\").get(\"max_retries\", 0)",
             "        return self.get_settings(\"run_retries\").get(\"max_retries\", 1)"),
    )),
    # a dispatch through the instance replaced by a direct attribute read
    Mutation("settings-read-directly", True, "python_log_level reads self._settings instead of calling self.get_settings", (
        Edit(M + "settings_methods.py",
             "        python_log_settings = self.get_settings(\"python_logs\") or {}\n"
             "        return python_log_settings.get(\"python_log_level\")",
             "        python_log_settings = (self._settings or {}).get(\"python_logs\") or {}\n"
             "        return python_log_settings.get(\"python_log_level\")"),
    )),
    Mutation("heartbeat-storage-read-directly", True,
             "add_daemon_heartbeat writes to self._run_storage instead of the run_storage property", (
        Edit(M + "daemon_methods.py", "        self.run_storage.add_daemon_heartbeat(daemon_heartbeat)\n",
             "        self._run_storage.add_daemon_heartbeat(daemon_heartbeat)\n"),
    )),
    Mutation("heartbeats-read-directly", True,
             "get_daemon_heartbeats reads self._run_storage instead of the run_storage property", (
        Edit(M + "daemon_methods.py", "        return self.run_storage.get_daemon_heartbeats()\n",
             "        return self._run_storage.get_daemon_heartbeats()\n"),
    )),
    Mutation("annotation-spelling", False, "get_runs(filters: RunsFilter | None) spelled Optional[RunsFilter]", (
        Edit(M + "run_methods.py",
             "    def get_runs(\n        self,\n        filters: RunsFilter | None = None,",
             "    def get_runs(\n        self,\n        filters: Optional[RunsFilter] = None,"),
    )),
    Mutation("docstring", False, "delete_dynamic_partition's docstring reworded", (
        Edit(I, "        If the partition does not exist, exits silently.",
             "        Deleting a partition that does not exist is not an error."),
    )),
    Mutation("local-rename", False, "a local variable of telemetry_enabled renamed", (
        Edit(M + "settings_methods.py",
             "        telemetry_settings = self.get_settings(\"telemetry\")\n\n"
             "        if not telemetry_settings:",
             "        settings_for_telemetry = self.get_settings(\"telemetry\")\n"
             "        telemetry_settings = settings_for_telemetry\n\n"
             "        if not telemetry_settings:"),
    )),
    Mutation("moved-into-mixin", False, "root_directory moved from DagsterInstance into StorageMethods", (
        Edit(I, "    @property\n    def root_directory(self) -> str:\n"
                "        return self._local_artifact_storage.base_dir\n", ""),
        Edit(M + "storage_methods.py", "class StorageMethods:\n",
             "class StorageMethods:\n    @property\n    def root_directory(self) -> str:\n"
             "        return self._local_artifact_storage.base_dir\n\n"),
    )),
    Mutation("docstring-backfills", False, "get_backfills's docstring reworded", (
        Edit(M + "scheduling_methods.py", "        \"\"\"Get backfills - moved from DagsterInstance.get_backfills().\"\"\"",
             "        \"\"\"The stored backfills, filtered and paged as asked.\"\"\""),
    )),
    Mutation("local-rename-log-level", False, "a local variable of python_log_level renamed", (
        Edit(M + "settings_methods.py",
             "        python_log_settings = self.get_settings(\"python_logs\") or {}\n"
             "        return python_log_settings.get(\"python_log_level\")",
             "        log_settings = self.get_settings(\"python_logs\") or {}\n"
             "        return log_settings.get(\"python_log_level\")"),
    )),
    Mutation("local-rename-loggers", False, "a local variable of managed_python_loggers renamed", (
        Edit(M + "settings_methods.py",
             "        python_log_settings = self.get_settings(\"python_logs\") or {}\n"
             "        loggers: Sequence[str] = python_log_settings.get(\"managed_python_loggers\", [])",
             "        configured = self.get_settings(\"python_logs\") or {}\n"
             "        loggers: Sequence[str] = configured.get(\"managed_python_loggers\", [])"),
    )),
    Mutation("annotation-spelling-ticks", False, "get_ticks(limit: int | None) spelled Optional[int]", (
        Edit(M + "scheduling_methods.py",
             "        after: float | None = None,\n        limit: int | None = None,\n"
             "        statuses: Sequence[\"TickStatus\"] | None = None,\n    ) -> Sequence[\"InstigatorTick\"]:",
             "        after: float | None = None,\n        limit: Optional[int] = None,\n"
             "        statuses: Sequence[\"TickStatus\"] | None = None,\n    ) -> Sequence[\"InstigatorTick\"]:"),
    )),
    Mutation("moved-into-mixin-snapshot", False, "has_snapshot moved from DagsterInstance into StorageMethods", (
        Edit(I, "    @traced\n    def has_snapshot(self, snapshot_id: str) -> bool:\n"
                "        return self._run_storage.has_snapshot(snapshot_id)\n\n", ""),
        Edit(M + "storage_methods.py", "class StorageMethods:\n",
             "class StorageMethods:\n    def has_snapshot(self, snapshot_id: str) -> bool:\n"
             "        return self._run_storage.has_snapshot(snapshot_id)\n\n"),
    )),
    Mutation("docstring-add-backfill", False, "add_backfill's docstring reworded", (
        Edit(M + "scheduling_methods.py", "        \"\"\"Add backfill - moved from DagsterInstance.add_backfill().\"\"\"",
             "        \"\"\"Store a new backfill.\"\"\""),
    )),
    Mutation("internal-manager-dispatching", False,
             "get_run_by_id delegates to a _RunManager that calls instance.get_run_record_by_id",
             _run_manager(_RUN_MANAGER_DISPATCHES)),
)


def dagster_root() -> Path:
    """The directory holding the installed `dagster` package (site-packages)."""
    import importlib.util

    spec = importlib.util.find_spec("dagster")
    if spec is None or not spec.submodule_search_locations:
        raise CompatError("dagster is not installed in this interpreter")
    return Path(list(spec.submodule_search_locations)[0]).parent


def apply(mutation: Mutation, dest: Path) -> Path:
    """Copy the installed dagster package under `dest` and apply the edits; returns `dest`."""
    src = dagster_root()
    shutil.copytree(src / "dagster", dest / "dagster", ignore=shutil.ignore_patterns("__pycache__"))
    for edit in mutation.edits:
        path = dest / edit.path
        text = path.read_text()
        count = text.count(edit.old)
        if count != 1:
            raise CompatError(f"mutation {mutation.id}: expected the edited text once in {edit.path}, found {count}; "
                              "update compat/tools/mutate.py for this dagster version")
        path.write_text(text.replace(edit.old, edit.new))
    return dest


def shadowing_python(root: Path, where: Path) -> str:
    """An interpreter wrapper whose `import dagster` finds the mutated copy first."""
    wrapper = where / "python"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{root}${{PYTHONPATH:+:$PYTHONPATH}}"\nexport PYTHONPATH\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(wrapper)


@dataclass
class Outcome:
    mutation: Mutation
    static: list[Finding] = field(default_factory=list)
    behaviour: list[Finding] = field(default_factory=list)
    behaviour_run: bool = False
    old_surface: Surface | None = None
    new_surface: Surface | None = None
    profiles: list = field(default_factory=list)
    replay: dict | None = None  # what the behaviour half replayed, and why (reach.Selection.as_dict)

    def result(self) -> CheckResult:
        return CheckResult(target=self.old_surface.target if self.old_surface else "?", old_label="baseline",
                           new_label=f"mutant {self.mutation.id}", findings=self.static + self.behaviour,
                           old_surface=self.old_surface, new_surface=self.new_surface, profiles=self.profiles)

    @property
    def failing(self) -> list[Finding]:
        """The findings of the causes that fail the gate (what the gate judges, as every report)."""
        return [f for c in self.result().failing(BREAKING) for f in c.findings]

    @property
    def gate_failed(self) -> bool:
        return bool(self.failing)

    @property
    def correct(self) -> bool:
        return self.gate_failed == self.mutation.breaking


def evaluate(mutation: Mutation, baseline: str | os.PathLike[str], *, behaviour: str = "auto",
             jobs: int = 1, full: bool = False) -> Outcome:
    """Run the gate's checks on a mutated copy of dagster against `baseline`.

    behaviour: "always", "never", or "auto" (replay only when the static checks did not already
    fail the gate, or when the mutation is meant to be equivalent and must pass everything).
    The behaviour half replays what the edit can reach (compat.behaviour.reach), every cell and
    program with ``full``.
    """

    base = Baseline(baseline)
    outcome = Outcome(mutation)
    with tempfile.TemporaryDirectory(prefix=f"compat-mutant-{mutation.id}-") as tmp:
        root = apply(mutation, Path(tmp) / "site")
        paths = [str(root)] + installed_search_paths()
        surface = snapshot(base.target, paths, source="mutant", use_cache=False)
        outcome.old_surface, outcome.new_surface = base.surface, surface
        outcome.profiles = [p for _, p in base.profiles()]
        outcome.static = static_findings(base, surface, paths)
        run_behaviour = behaviour == "always" or (
            behaviour == "auto" and (not mutation.breaking or not outcome.gate_failed)
        )
        if run_behaviour and base.trace_files():
            python = shadowing_python(root, Path(tmp))
            selection = base.selection(python, paths, full=full)
            outcome.replay = selection.as_dict()
            if selection.cells:
                outcome.behaviour = behaviour_mod.replay(str(base.path), python, jobs=jobs, only=selection.cells)
            if selection.programs:
                outcome.behaviour += replay_programs(base.programs(), python, (base.label, "mutant"),
                                                     only=selection.programs)
            outcome.behaviour_run = True
    return outcome


def select(ids: list[str] | None) -> list[Mutation]:
    if not ids:
        return list(MUTATIONS)
    known = {m.id: m for m in MUTATIONS}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise CompatError(f"unknown mutation(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[i] for i in ids]


def kill_report(outcomes: list[Outcome]) -> str:
    breaking = [o for o in outcomes if o.mutation.breaking]
    equivalent = [o for o in outcomes if not o.mutation.breaking]
    killed = sum(o.gate_failed for o in breaking)
    passed = sum(not o.gate_failed for o in equivalent)
    lines = [f"kill rate: {killed}/{len(breaking)} breaking mutations failed the gate; "
             f"{passed}/{len(equivalent)} equivalent mutations passed it"]
    for o in outcomes:
        verdict = ("killed" if o.gate_failed else "SURVIVED") if o.mutation.breaking else (
            "passed" if not o.gate_failed else "FALSE ALARM")
        by = sorted({f"{f.source}:{f.rule}" for f in o.failing})
        replayed = (f"  (replayed {o.replay['cells_replayed']}/{o.replay['cells_total']} cells, "
                    f"{o.replay['programs_replayed']}/{o.replay['programs_total']} programs)") if o.replay else ""
        lines.append(f"  {verdict:<11} {o.mutation.id:<20} {o.mutation.description}" + (f"  [{', '.join(by)}]" if by else "")
                     + replayed)
    return "\n".join(lines)

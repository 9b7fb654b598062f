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

from compat import envs
from compat.behaviour import replay as behaviour_mod
from compat.fuzz.differential import replay_programs
from compat.baseline import Baseline
from compat.pipeline import static_findings
from compat.model.errors import CompatError
from compat.model.findings import BREAKING, WARNING, Finding
from compat.model.surface import Surface
from compat.result import CheckResult
from compat.model.jsonio import write_atomic
from compat.sides import Side
from compat.static.extract import installed_search_paths, snapshot
from compat.tools import mutants as mutants_mod
from compat.tools.mutants import Mutant

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

    def write(self, dest: Path) -> None:
        """Make the edits in the copy of dagster under ``dest``."""
        for edit in self.edits:
            path = dest / edit.path
            text = path.read_text()
            count = text.count(edit.old)
            if count != 1:
                raise CompatError(f"mutation {self.id}: expected the edited text once in {edit.path}, found {count}; "
                                  "update compat/tools/mutate.py for this dagster version")
            _rewrite(path, text.replace(edit.old, edit.new))


@dataclass(frozen=True)
class GeneratedMutation:
    """A generated mutant (compat/tools/mutants.py) in the shape the gate's runner takes: breaking
    unless the equivalence heuristics judge it unobservable."""

    mutant: Mutant

    @property
    def id(self) -> str:
        return self.mutant.id

    @property
    def breaking(self) -> bool:
        return self.mutant.equivalent is None

    @property
    def description(self) -> str:
        return self.mutant.description

    def write(self, dest: Path) -> None:
        path = dest / self.mutant.path
        _rewrite(path, self.mutant.apply_to(path.read_bytes()).decode())


def _rewrite(path: Path, text: str) -> None:
    """Replace a file of a mutant's tree by a new one (never writing through a hard link into the
    pristine copy) and drop its compiled bytecode, which may not check the source's time."""
    write_atomic(path, text)
    for pyc in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        pyc.unlink()


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
    # a clash only the shipped corpus shows is a warning (docs/severity.md): this one is with a real
    # downstream subclass, dagster-cloud's agent instance, which defines `dagit_url` itself
    Mutation("clashing-member", True, "the base adds a property named like dagster-cloud's own `dagit_url`", (
        Edit(I, "    @property\n    def root_directory(self) -> str:",
             "    @property\n    def dagit_url(self) -> None:\n        return None\n\n"
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


def dagster_root(search_paths: list[str] | None = None) -> Path:
    """The directory holding the `dagster` package: the installed one (site-packages), or the
    first of ``search_paths`` that holds one."""
    import importlib.util

    if search_paths is not None:
        for root in search_paths:
            if (Path(root) / "dagster" / "__init__.py").is_file():
                return Path(root)
        raise CompatError("no dagster package on the side's search paths")
    spec = importlib.util.find_spec("dagster")
    if spec is None or not spec.submodule_search_locations:
        raise CompatError("dagster is not installed in this interpreter")
    return Path(list(spec.submodule_search_locations)[0]).parent


class Pristine:
    """One copy of a dagster package (with its compiled bytecode) for a run of many mutants: each
    mutant's tree is hard links to it, and only the edited file is written anew."""

    def __init__(self, root: Path | None = None):
        self._tmp = tempfile.TemporaryDirectory(prefix="compat-pristine-")
        self.path = Path(self._tmp.name)
        shutil.copytree((root or dagster_root()) / "dagster", self.path / "dagster")

    def link(self, dest: Path) -> None:
        def link_or_copy(src: str, dst: str) -> None:
            try:
                os.link(src, dst)
            except OSError:  # another filesystem: a plain copy
                shutil.copy2(src, dst)

        shutil.copytree(self.path / "dagster", dest / "dagster", copy_function=link_or_copy)

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> "Pristine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def apply(mutation: Mutation | GeneratedMutation, dest: Path, *, pristine: Pristine | None = None) -> Path:
    """A copy of the installed dagster package (or of ``pristine``) under `dest` with the
    mutation's edits made; returns `dest`."""
    if pristine is None:
        shutil.copytree(dagster_root() / "dagster", dest / "dagster", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        pristine.link(dest)
    mutation.write(dest)
    return dest


def shadowing_python(root: Path, where: Path, python: str | None = None) -> str:
    """An interpreter wrapper (around ``python``, this one by default) whose `import dagster`
    finds the mutated copy first."""
    wrapper = where / "python"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{root}${{PYTHONPATH:+:$PYTHONPATH}}"\nexport PYTHONPATH\n'
        f'exec "{python or sys.executable}" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(wrapper)


@dataclass
class Outcome:
    mutation: Mutation | GeneratedMutation
    static: list[Finding] = field(default_factory=list)
    behaviour: list[Finding] = field(default_factory=list)
    behaviour_run: bool = False
    old_surface: Surface | None = None
    new_surface: Surface | None = None
    profiles: list = field(default_factory=list)
    replay: dict | None = None  # what the behaviour half replayed, and why (selection.Selection.as_dict)

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


def replay_search_paths(root: Path, side: Side | None) -> list[str]:
    """Where the mutant's interpreter imports the hashed packages from (dagster from ``root``,
    dagster-shared and dagster-pipes from the side's environment): what the reach map compares.
    A released side's static search path is its dagster wheel alone, without which the other
    two packages read as removed and every cell replayed."""
    if side is None:
        return [str(root)] + installed_search_paths()
    return [str(root)] + envs.interpreter_paths(side.python)


_BATCHES = (6, 24, 96, 0)  # cells replayed at a time with first_kill (0: the rest)


def spread_by_scenario(cells: list[str]) -> list[str]:
    """The cells (trace stems ``subclass__scenario__storage``) reordered so that every scenario's
    first cell comes before any scenario's second: recorded stems sort by subclass, so the first
    batch of a replay that stops at the first failure would otherwise be one subclass on a few
    scenarios, and an edit only one scenario sees (a refused configuration, say) replayed
    hundreds of cells before reaching it. The order decides only when a replay stops, never a
    verdict: a mutant that passes replays every cell either way."""
    seen: dict[str, int] = {}
    ranked = []
    for i, stem in enumerate(cells):
        parts = stem.split("__")
        scenario = parts[1] if len(parts) == 3 else stem
        ranked.append((seen.get(scenario, 0), i, stem))
        seen[scenario] = seen.get(scenario, 0) + 1
    return [stem for _, _, stem in sorted(ranked)]


def evaluate(mutation: Mutation | GeneratedMutation, baseline: str | os.PathLike[str], *, behaviour: str = "auto",
             jobs: int = 1, full: bool = False, pristine: Pristine | None = None,
             side: Side | None = None, first_kill: bool = False) -> Outcome:
    """Run the gate's checks on a mutated copy of dagster against `baseline`.

    behaviour: "always", "never", or "auto" (replay only when the static checks did not already
    fail the gate, or when the mutation is meant to be equivalent and must pass everything).
    The behaviour half replays what the edit can reach (compat.behaviour.reach), every cell and
    program with ``full``. ``side`` is the dagster mutated (the installed one by default), and
    ``pristine`` a copy of its package to link mutants from. With ``first_kill`` the cells are
    replayed in growing batches and the replay stops once the gate fails (a score needs only to
    know that it does; an edit of start-up code would otherwise replay every cell).
    """

    base = Baseline(baseline)
    outcome = Outcome(mutation)
    with tempfile.TemporaryDirectory(prefix="compat-mutant-") as tmp:
        root = apply(mutation, Path(tmp) / "site", pristine=pristine)
        paths = [str(root)] + (side.search_paths if side is not None else installed_search_paths())
        surface = snapshot(base.target, paths, source="mutant", use_cache=False)
        outcome.old_surface, outcome.new_surface = base.surface, surface
        outcome.profiles = [p for _, p in base.profiles()]
        outcome.static = static_findings(base, surface, paths)
        run_behaviour = behaviour == "always" or (
            behaviour == "auto" and (not mutation.breaking or not outcome.gate_failed)
        )
        if run_behaviour and base.trace_files():
            python = shadowing_python(root, Path(tmp), side.python if side is not None else None)
            selection = base.selection(python, replay_search_paths(root, side), full=full)
            outcome.replay = selection.as_dict()
            done = 0
            cells = spread_by_scenario(selection.cells) if first_kill else selection.cells
            for size in (_BATCHES if first_kill else (len(cells),)):
                batch = cells[done:done + size] if size else cells[done:]
                if batch:
                    outcome.behaviour += behaviour_mod.replay(str(base.path), python, jobs=jobs, only=batch,
                                                               dagster=base.dagster)
                    done += len(batch)
                if first_kill and outcome.gate_failed:
                    break
            outcome.replay["cells_run"] = done
            if selection.programs and not (first_kill and outcome.gate_failed):
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


# --- generated mutants: the mutation score -----------------------------------------------------
KILLED, SURVIVED, EQUIVALENT, FALSE_ALARM, ERROR = "killed", "survived", "equivalent", "false-alarm", "error"


@dataclass
class Scored:
    """What the gate made of one generated mutant, as data (the report renders it)."""

    mutant: Mutant
    verdict: str  # KILLED, SURVIVED, EQUIVALENT (passed, judged equivalent), FALSE_ALARM (failed, so judged), ERROR
    rules: list[str] = field(default_factory=list)  # source:rule of the findings that failed the gate
    replay: dict | None = None
    error: str | None = None
    # source:rule of the findings the severity policy judged a warning (a survivor with some was
    # seen: its change shows, but does not fail the gate)
    seen: list[str] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """Whether the gate looked at the edit's behaviour: some recorded cell or program replayed."""
        return bool(self.replay and (self.replay["cells_replayed"] or self.replay["programs_replayed"]))

    @property
    def why(self) -> str:
        """Why a survivor survived (or why an equivalent one is), in a phrase."""
        if self.mutant.equivalent:
            return f"equivalent ({self.mutant.equivalent}): {mutants_mod.EQUIVALENCE[self.mutant.equivalent]}"
        if self.verdict == ERROR:
            return f"error: {self.error}"
        if self.verdict == SURVIVED and self.seen:
            return f"seen, but judged a warning by the severity policy ({', '.join(self.seen)})"
        if not self.reached:
            return "not executed by any recorded cell or program, and no signature changed"
        return (f"executed by {self.replay['cells_replayed']} replayed cells and {self.replay['programs_replayed']} "
                "programs: no trace differed")

    def as_dict(self) -> dict:
        return {"mutant": self.mutant.as_dict(), "verdict": self.verdict, "rules": self.rules,
                "seen": self.seen, "replay": self.replay, "error": self.error}


def score_one(mutant: Mutant, baseline: str | os.PathLike[str], *, pristine: Pristine, side: Side | None = None,
              jobs: int = 1, full: bool = False) -> Scored:
    mutation = GeneratedMutation(mutant)
    try:
        outcome = evaluate(mutation, baseline, jobs=jobs, full=full, pristine=pristine, side=side, first_kill=True)
    except CompatError as exc:
        return Scored(mutant, ERROR, error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    rules = sorted({f"{f.source}:{f.rule}" for f in outcome.failing})
    # warnings only: an info finding is no change a caller suffers (a mutant tree of another
    # release read statically loses an incidental re-export, for every mutant alike)
    seen = sorted({f"{f.source}:{f.rule}" for f in outcome.static + outcome.behaviour if f.severity == WARNING}
                  - set(rules))
    if mutant.equivalent:
        verdict = FALSE_ALARM if outcome.gate_failed else EQUIVALENT
    else:
        verdict = KILLED if outcome.gate_failed else SURVIVED
    return Scored(mutant, verdict, rules, outcome.replay, seen=seen)


@dataclass
class ScoreReport:
    """The mutation score of a run of generated mutants: killed / (killed + non-equivalent survivors)."""

    dagster: str  # the side mutated, named by what it is
    baseline: str
    generated: int  # how many mutants the operators produce on this dagster
    operators: list[str]
    sample: int | None
    seed: int
    results: list[Scored]
    planned: int | None = None  # how many mutants the run set out to check (a stopped run checked fewer)

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    @property
    def score(self) -> float | None:
        judged = self.count(KILLED) + self.count(SURVIVED)
        return self.count(KILLED) / judged if judged else None

    def as_dict(self) -> dict:
        return {"schema": "compat.mutation-score", "version": 1, "dagster": self.dagster, "baseline": self.baseline,
                "generated": self.generated, "operators": self.operators, "sample": self.sample, "seed": self.seed,
                "planned": self.planned, "checked": len(self.results),
                "counts": {v: self.count(v) for v in (KILLED, SURVIVED, EQUIVALENT, FALSE_ALARM, ERROR)},
                "score": None if self.score is None else round(self.score, 4),
                "results": [r.as_dict() for r in self.results]}

    def render(self) -> str:
        """The report as markdown: the score, the counts by operator, every survivor by class."""
        killed, survived = self.count(KILLED), self.count(SURVIVED)
        if self.sample is not None and self.sample < self.generated:
            drawn = f"a sample of {self.sample} drawn with seed {self.seed} from {self.generated} generated mutants"
        elif self.planned is not None and self.planned < self.generated:
            drawn = f"{self.planned} chosen of {self.generated} generated mutants"
        else:
            drawn = f"all {self.generated} generated mutants"
        score = "n/a" if self.score is None else f"{100 * self.score:.1f}%"
        out = [f"# Generated mutants of {self.dagster}: mutation score {score}", "",
               f"{drawn} of `dagster/_core/instance/**`, checked by the gate against `{self.baseline}`"
               + (f" (stopped after {len(self.results)} of {self.planned})." if self.planned is not None
                  and len(self.results) < self.planned else "."), "",
               f"- score: **{killed}/{killed + survived}** non-equivalent mutants killed ({score})",
               f"- judged equivalent and passed: {self.count(EQUIVALENT)}; judged equivalent but failed the gate "
               f"(possible false alarms): {self.count(FALSE_ALARM)}; errors: {self.count(ERROR)}",
               f"- survivors seen but judged a warning: {sum(r.verdict == SURVIVED and bool(r.seen) for r in self.results)}; "
               f"not executed by any recorded cell: "
               f"{sum(r.verdict == SURVIVED and not r.seen and not r.reached for r in self.results)}; executed but "
               f"no trace differed: {sum(r.verdict == SURVIVED and not r.seen and r.reached for r in self.results)}", "",
               "## By operator", "", "| operator | mutants | killed | survived | equivalent | false alarm | error |",
               "|---|---:|---:|---:|---:|---:|---:|"]
        for op in self.operators:
            rs = [r for r in self.results if r.mutant.operator == op]
            if rs:
                out.append(f"| {op} | {len(rs)} | " + " | ".join(
                    str(sum(r.verdict == v for r in rs)) for v in (KILLED, SURVIVED, EQUIVALENT, FALSE_ALARM, ERROR)) + " |")
        sections = [
            ("Survivors: seen, but judged a warning by the severity policy",
             lambda r: r.verdict == SURVIVED and bool(r.seen)),
            ("Survivors: executed, but no trace differed", lambda r: r.verdict == SURVIVED and not r.seen and r.reached),
            ("Survivors: not executed by any recorded cell or program",
             lambda r: r.verdict == SURVIVED and not r.seen and not r.reached),
            ("Judged equivalent (heuristics), and the gate passed", lambda r: r.verdict == EQUIVALENT),
            ("Judged equivalent, but the gate failed (possible false alarms)", lambda r: r.verdict == FALSE_ALARM),
            ("Errors", lambda r: r.verdict == ERROR),
        ]
        for title, pick in sections:
            rs = [r for r in self.results if pick(r)]
            if not rs:
                continue
            out += ["", f"## {title} ({len(rs)})", ""]
            for r in rs:
                m = r.mutant
                extra = ""
                if r.verdict in (EQUIVALENT, FALSE_ALARM):
                    extra = f" — {m.equivalent}" + (f" [{', '.join(r.rules)}]" if r.rules else "")
                elif r.verdict == ERROR:
                    extra = f" — {r.error}"
                elif r.seen:
                    extra = f" — {', '.join(r.seen)}"
                elif r.reached:
                    extra = f" — replayed {r.replay['cells_replayed']} cells, {r.replay['programs_replayed']} programs"
                out.append(f"- `{m.where}` {m.operator} in `{m.function}`: `{m.diff}`{extra} (id `{m.id}`)")
        out += ["", "## Killed", ""]
        for r in self.results:
            if r.verdict == KILLED:
                out.append(f"- `{r.mutant.where}` {r.mutant.operator}: {', '.join(r.rules)}")
        if self.count(KILLED) == 0:
            out.append("- (none)")
        return "\n".join(out) + "\n"

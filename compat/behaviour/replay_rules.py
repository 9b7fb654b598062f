"""The behaviour layer's rules: what a divergence between two traces of one cell is reported as.

Each rule is registered in the one rule registry (:mod:`compat.rules.registry`) with a pair of
toy traces that :func:`compat.behaviour.compare.compare` reports (and a near miss it does not):
the rule catalogue, ``docs/rules.md`` and the fixture runner read them from there. The
comparison itself is in :mod:`compat.behaviour.compare`; these are kept apart so that a reader
looking for what a finding means finds the rules without the code that decides them.
"""

from __future__ import annotations

from typing import Any

from compat.model.findings import BOTH, BREAKING, SUBCLASSES
from compat.rules.registry import BEHAVIOUR, Fixture, register


def _toy_trace(result: dict | None = None, *, state: dict | None = None, dispatch: list | None = None,
               spied: list[str] | None = None, cell_error: str | None = None, version: int = 1,
               warnings: dict | None = None, identity: dict | None = None,
               forwarded: list | None = None, attributes: dict | None = None) -> dict[str, Any]:
    """A minimal trace of one cell, as a rule fixture: what record writes, cut to what compare reads."""
    result = result or {}
    meta: dict[str, Any] = {"steps": list(result)}
    if spied is not None:
        meta["spied_members"] = spied
    trace = {"cell": {"subclass": "spy:create-run-tags", "scenario": "runs_lifecycle", "storage": "memory"},
             "cell_error": cell_error, "exception": None, "dispatch": dispatch or [], "meta": meta,
             "result": result, "state": state or {}}
    if version > 1:  # what version 2 added (a trace without a version is a version-1 trace)
        trace.update({"schema_version": version, "warnings": warnings, "identity": identity, "forwarded": forwarded,
                      "attributes": attributes})
    return trace


def _set_up_fails_alike(about: str) -> Fixture:
    """A near miss two cell-failure rules share: the cell's set-up fails the same way on both sides."""
    old, new = (_toy_trace(_STATUS, cell_error="ImportError: no module named 'dagster_cloud'") for _ in range(2))
    return Fixture(old, new, about=about)


def _dispatch(member: str, caller: str, caller_class: str = "DagsterInstance", via: str = "self",
              **kwargs: str) -> dict[str, Any]:
    return {"args": [], "caller": caller, "caller_class": caller_class, "kind": "call", "kwargs": kwargs,
            "member": member, "n": 1, "via": via}


_CREATE = _dispatch("create_run_for_job", "step", "Ctx", via="external", tags="dict")
_CREATE_RUN = _dispatch("create_run", "create_run_for_job", tags="dict", status="NoneType")
_SPIED = ["create_run", "create_run_for_job"]
_STATUS = {"create_run_for_job": {"status": "NOT_STARTED", "tags": {"corpus/origin": "create-run-tags"}}}
_RAISES = {"get_run_by_id": {"__exception__": {"type": "DagsterRunNotFoundError", "message": "run 'x' not found"}}}

# One finding per divergent cell, for its first divergence, in this order: the cell's set-up,
# the scenario's own exception, the dispatches, the step results, the final state.
RULE_CELL = register(
    id="behaviour-cell-error",
    cause="cell-error",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="The cell could not run at all on the new side, or its set-up outcome changed.",
    explanation="""
        The subclass cannot be built on the new dagster (its `__init__` or the base's raises, a
        hook it needs is gone), or the worker crashed or hung running the cell. Whoever deploys
        that subclass on the new version fails at start-up, before any scenario runs.
    """,
    fix="Make the subclass constructible on the new base again: the finding shows the error the cell's set-up raised.",
    fixture=Fixture(_toy_trace(_STATUS), _toy_trace(_STATUS, cell_error=(
        "TypeError: DagsterInstance.__init__() got an unexpected keyword argument 'settings_path'"))),
    near_miss=_set_up_fails_alike("the cell fails the same way on both sides: a set-up problem of the recording, not a change"),
)
RULE_IMPORT = register(
    id="target-import-failed",
    cause="cell-error",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="The new side cannot even import the target's module (a dropped re-export, a missing module).",
    explanation="""
        `import dagster` (or the target's module) raises on the new version: every caller and every
        subclass fails at start-up. No behaviour cell can run, so none is replayed; the finding
        carries the exception and the module whose import statement failed, and the static
        findings are still reported beside it.
    """,
    fix="Restore the name the failing module imports (keep the re-export), or update the import in that module.",
    fixture=Fixture(_toy_trace(_STATUS), {**_toy_trace(_STATUS), "import_error": {
        "exception": "ImportError: cannot import name 'InstanceRef' from 'dagster._core.instance'",
        "module": "dagster._core.storage.root", "line": 12}}),
    near_miss=_set_up_fails_alike("a cell's own set-up fails the same way on both sides; the target itself imports"),
)
RULE_EXCEPTION = register(
    id="behaviour-exception-changed",
    cause="exception",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="A step raises another exception type, raises where it did not, or no longer raises.",
    explanation="""
        Callers that catch the old exception type (or rely on the call succeeding) now see another
        outcome for the same calls: an `except DagsterRunNotFoundError` no longer catches, a call
        that used to fail loudly now returns something. Subclass overrides built on `super()`
        propagate the change.
    """,
    severity_note=(
        "A warning when only the message changed under the same exception type (callers catching by type "
        "see no change); a later result or state change in the same cell is then the cell's finding."),
    fix="Raise the old exception type for the same input (subclass it if you need a new type), or keep returning normally.",
    fixture=Fixture(_toy_trace(_RAISES), _toy_trace({"get_run_by_id": None})),
    near_miss=Fixture(
        _toy_trace(_RAISES),
        _toy_trace({"get_run_by_id": {"__exception__": {**_RAISES["get_run_by_id"]["__exception__"], "notes": None}}}),
        about="the exception gains an optional field with no value (a newer serializer): the same exception"),
)
RULE_DISPATCH = register(
    id="behaviour-dispatch-changed",
    cause="dispatch",
    severity=BREAKING,
    audience=SUBCLASSES,
    layer=BEHAVIOUR,
    family="replay",
    summary="The sequence of dispatches to overridable members differs.",
    explanation="""
        A member the base used to call through `self` is no longer called (a subclass override
        is silently ignored), is newly called (an override now runs where it did not), is called
        with other arguments (an override's signature may not accept them), or in another order.
        The subclass that overrides it behaves differently without any error. The first change
        is shown with the dispatches around it.
    """,
    fix="Keep calling `self.<member>(...)` with the same arguments where the old base did, so overrides keep running.",
    fixture=Fixture(_toy_trace(_STATUS, dispatch=[_CREATE, _CREATE_RUN], spied=_SPIED),
                    _toy_trace(_STATUS, dispatch=[_CREATE], spied=_SPIED)),
    near_miss=Fixture(
        _toy_trace(_STATUS, dispatch=[_CREATE, _CREATE_RUN], spied=_SPIED),
        _toy_trace(_STATUS, dispatch=[_CREATE, _dispatch("_run_domain", "create_run_for_job"), _CREATE_RUN],
                   spied=_SPIED + ["_run_domain"]),
        about="the new base also calls a member the old class did not have: no subclass overrides it, so it "
              "is not compared"),
)
RULE_RESULT = register(
    id="behaviour-result-changed",
    cause="result",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="A scenario step returned a different (normalized) value.",
    explanation="""
        Callers get another value for the same calls on the same storage (other tags, another
        status, a list in another order), and so do subclass overrides that build on `super()`;
        code relying on the old value computes something else, usually without an error.
    """,
    fix="Return what the old version returned for the same calls (the finding names the step and the first differing path).",
    fixture=Fixture(_toy_trace(_STATUS), _toy_trace({"create_run_for_job": {"status": "NOT_STARTED", "tags": {}}})),
    near_miss=Fixture(
        _toy_trace(_STATUS),
        _toy_trace({"create_run_for_job": {**_STATUS["create_run_for_job"], "run_op_concurrency": None}}),
        about="the value gains a field with no value (an optional field a newer serializer adds): the same value"),
)
RULE_STATE = register(
    id="behaviour-state-changed",
    cause="state",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="The final storage state of the scenario differs.",
    explanation="""
        The scenario's calls leave other runs, events, assets, partitions, instigators, backfills
        or heartbeats in storage: whoever reads them later (the UI, daemons, the next call of a
        caller or of a subclass) sees another history.
    """,
    fix="Write to storage what the old version wrote for the same calls (the finding names the first differing path).",
    fixture=Fixture(_toy_trace(_STATUS, state={"runs": [{"status": "SUCCESS", "tags": {"team": "1"}}]}),
                    _toy_trace(_STATUS, state={"runs": [{"status": "SUCCESS", "tags": {}}]})),
    near_miss=Fixture(
        _toy_trace(_STATUS, state={"runs": [{"status": "SUCCESS", "tags": {"team": "1"}}]}),
        _toy_trace(_STATUS, state={"runs": [{"status": "SUCCESS", "tags": {"team": "1"}}], "defs_state": None}),
        about="the state gains an entry with no value (storage the old version did not have): the same state"),
)

_DEPRECATED = {"get_run_by_id": [["DeprecationWarning", "get_run_by_id is deprecated"]]}
RULE_WARNING = register(
    id="behaviour-warnings-changed",
    cause="warning",
    severity=BREAKING,
    audience=BOTH,
    layer=BEHAVIOUR,
    family="replay",
    summary="A step emits a warning of a category it did not emit before.",
    explanation="""
        The same calls now emit another warning (a `DeprecationWarning`, a `UserWarning`): under
        `-W error` or a pytest `filterwarnings = error`, as many test suites of deployments and
        subclasses run, the call now raises; elsewhere logs fill with a warning nobody asked for.
        Every warning a step emits is recorded (category and message, in order, with every filter
        set to "always"), except `ResourceWarning`, which finalizers emit whenever the collector
        runs.
    """,
    severity_note=(
        "A warning when a step no longer emits a warning or emits the same categories with other "
        "messages: nothing that ran before fails now."),
    fix="Do not emit the new warning for calls that were fine before (or emit it only on the path being deprecated).",
    fixture=Fixture(_toy_trace(_STATUS, version=2),
                    _toy_trace(_STATUS, version=2, warnings={"create_run_for_job": _DEPRECATED["get_run_by_id"]})),
    near_miss=Fixture(
        _toy_trace(_STATUS),
        _toy_trace(_STATUS, version=2, warnings={"create_run_for_job": _DEPRECATED["get_run_by_id"]}),
        about="the old trace was recorded before warnings were (version 1): compared at its fidelity, no "
              "warning is invented"),
)

_BUCKET = {"__type__": "TagBucket", "bucket_limit": 1, "tag_key": "team", "tag_values": ["a"]}
_FILTER = {"__type__": "RunsFilter", "job_name": "args_job", "tags": {}}
RULE_FORWARDED = register(
    id="behaviour-forwarding-changed",
    cause="dispatch",
    severity=BREAKING,
    audience=SUBCLASSES,
    layer=BEHAVIOUR,
    family="replay",
    summary="The instance forwards other calls, or other arguments, to a custom storage.",
    explanation="""
        dagster-cloud's storages are custom subclasses of dagster's storage classes that send each
        call over an API; what the instance passes them (a `bucket_by`, a filter, a limit, a cursor,
        `ascending`) is their contract even where dagster's sqlite storages ignore it. The corpus's
        `forwarding-storages` instance wraps its storages the same way and notes every call; a
        call now made with other arguments, no longer made, or newly made, is what such a storage
        sees change: a dropped `bucket_by` returns every run instead of one per bucket.
    """,
    fix="Forward the same arguments to the storage as before (the finding shows the call on both sides).",
    fixture=Fixture(
        _toy_trace(_STATUS, version=2, forwarded=[["run_storage", "get_runs", [None, None, None, _BUCKET, False], {}]]),
        _toy_trace(_STATUS, version=2, forwarded=[["run_storage", "get_runs", [None, None, None, None, False], {}]])),
    near_miss=Fixture(
        _toy_trace(_STATUS, version=2, forwarded=[["run_storage", "get_run_records", [_FILTER], {}]]),
        _toy_trace(_STATUS, version=2, forwarded=[["run_storage", "get_run_records",
                                                   [{**_FILTER, "exclude_subruns": None}], {}]]),
        about="the filter gains a field left at None (a newer dagster's RunsFilter): the same query"),
)

RULE_ATTRIBUTES = register(
    id="behaviour-attributes-changed",
    cause="attribute",
    severity=BREAKING,
    audience=SUBCLASSES,
    layer=BEHAVIOUR,
    family="replay",
    summary="An instance attribute is set (or deleted) by another step than before, or no longer.",
    explanation="""
        The attributes of the instance are compared after every step, not only after `__init__`:
        an attribute the base used to assign in `__init__` and now assigns lazily, on first use,
        is missing when a subclass override reads it before that use (from its own `__init__`,
        from a hook the base calls early); one now deleted on `dispose` or `wipe` is gone for an
        override that runs afterwards.
    """,
    fix="Keep assigning the attribute where the old base did (in `__init__`, before any override runs).",
    fixture=Fixture(_toy_trace(_STATUS, version=2, attributes={"(start)": {"present": ["_run_domain"]}}),
                    _toy_trace(_STATUS, version=2, attributes={"(start)": {"present": []},
                                                               "create_run_for_job": {"added": ["_run_domain"]}})),
    near_miss=Fixture(
        _toy_trace(_STATUS, version=2, attributes={"(start)": {"present": []}}),
        _toy_trace(_STATUS, version=2, attributes={"(start)": {"present": []},
                                                   "create_run_for_job": {"added": ["run_domain"]}}),
        about="the new base sets an attribute the old one never had, lazily: no subclass could read it before"),
)

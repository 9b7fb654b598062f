"""Traces: the normalized record of one (subclass, scenario, storage) cell.

A trace holds the scenario's result (values serialized through dagster's serdes where
possible, else a stable repr), its exception if any, the final storage state of the instance,
the dispatch sequence recorded by the spy, the warnings each step emitted, and which step
results were the same object as an earlier one or as the instance's own state.

A result keeps what a caller can observe of a value (version 2, ``exact``): a tuple is not a
list (callers that append break), a set or a frozenset is not a list (sets stay sorted: they
have no order a caller may rely on), a mapping keeps its insertion order beside its sorted
items, and an exception its base classes (callers catch by those). A version-1 trace, recorded
before, is compared at its own fidelity: :func:`downgrade` maps a version-2 value to what
version 1 recorded, so an old baseline keeps working and never shows a difference that is
only the encoding's. ``normalize`` rewrites everything that varies
between two runs of the same behaviour (run ids and other uuids, timestamps, durations, temp
paths, versions, host names, pids, memory addresses) into stable placeholders, so that two
traces are equal exactly when the behaviour is.

This module imports only the standard library at import time (dagster lazily): it runs inside
any dagster version's worker.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import re
import socket
import sys
import tempfile
from typing import Any, Callable

TRACE_SCHEMA = "compat.trace"
TRACE_VERSION = 2
# versions this harness reads; an older one is compared at its own fidelity (see ``downgrade``)
TRACE_VERSIONS = (1, TRACE_VERSION)

# ---------------------------------------------------------------------------------------------
# values -> JSON


def exception_data(exc: BaseException, exact: bool = False) -> dict[str, Any]:
    """An exception as data: its class and message, and with ``exact`` the classes it derives
    from (a caller's ``except DagsterError`` stops catching when the class leaves that tree)."""
    data: dict[str, Any] = {"type": type(exc).__name__, "message": _first_lines(str(exc))}
    if exact:
        data["bases"] = [k.__name__ for k in type(exc).__mro__[1:] if k not in (BaseException, object)]
    return data


TRUNCATED = "...<truncated>"  # what follows a long text's first characters in a trace


class Cut(str):
    """A long text as a trace shows it, its first ``limit`` characters, that keeps the whole
    text: the normalizer replaces the temp dirs and ids in the whole text and cuts after, so the
    cut falls in the same place whatever the temp dir's length (a worker's home on another
    machine) and never through an id it would have numbered. Read as a plain string, it is the
    cut text."""

    full: str
    limit: int


def _first_lines(text: str, limit: int = 2000) -> str:
    if len(text) <= limit:
        return text
    cut = Cut(text[:limit] + TRUNCATED)
    cut.full, cut.limit = text, limit
    return cut


def _serdes(value: Any) -> Any:
    try:
        from dagster._serdes import serialize_value
    except Exception:  # pragma: no cover - dagster always present in a worker
        return _NOT_SERIALIZED
    try:
        return json.loads(serialize_value(value))
    except Exception:
        return _NOT_SERIALIZED


_NOT_SERIALIZED = object()
_ADDR = re.compile(r"0x[0-9a-fA-F]{4,}")


def stable_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return _ADDR.sub("0x<addr>", text)


def to_jsonable(value: Any, _depth: int = 0, exact: bool = False) -> Any:
    """Plain JSON for a scenario value: serdes first, then structure, then a stable repr.

    ``exact`` keeps what a caller can observe beyond the contents (trace version 2): tuples,
    sets and frozensets are marked as such, a mapping's insertion order is kept when it is not
    the sorted one (``__order__``: each key's rank in the sorted items, in insertion order),
    a mapping that is not a dict names its type, and an exception its base classes."""
    if _depth > 30:
        return stable_repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return repr(value)
        return value
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, BaseException):
        return {"__exception__": exception_data(value, exact)}
    if isinstance(value, dict) or _is_mapping(value):
        keys = [_key(k) for k in value.keys()]
        items = [(k, to_jsonable(v, _depth + 1, exact)) for k, v in zip(keys, value.values())]
        out = dict(sorted(items, key=lambda kv: kv[0]))
        if exact:
            ranked = sorted(range(len(keys)), key=lambda i: keys[i])
            if ranked != list(range(len(keys))):
                rank = {i: r for r, i in enumerate(ranked)}
                out[ORDER] = [rank[i] for i in range(len(keys))]
            if type(value) is not dict:
                out[MAPPING] = type(value).__name__
        return out
    if isinstance(value, (set, frozenset)):
        items = sorted((to_jsonable(v, _depth + 1, exact) for v in value), key=_sort_key)
        return {SET if isinstance(value, set) else FROZENSET: items} if exact else items
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        items = [to_jsonable(v, _depth + 1, exact) for v in value]
        return {TUPLE: items} if exact and isinstance(value, tuple) else items
    serialized = _serdes(value)
    if serialized is not _NOT_SERIALIZED:
        return serialized
    if hasattr(value, "_asdict"):
        return {"__type__": type(value).__name__,
                **{k: to_jsonable(v, _depth + 1, exact) for k, v in value._asdict().items()}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "__type__": type(value).__name__,
            **{f.name: to_jsonable(getattr(value, f.name), _depth + 1, exact) for f in dataclasses.fields(value)},
        }
    if isinstance(value, type):
        return f"<class {value.__name__}>"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"<callable {value.__qualname__}>"
    if hasattr(value, "to_string") and type(value).__name__ == "AssetKey":
        return value.to_string()
    return {"__repr__": stable_repr(value)}


# the markers of an exact (version 2) value
TUPLE, SET, FROZENSET = "__tuple__", "__set__", "__frozenset__"
ORDER, MAPPING = "__order__", "__mapping__"
_CONTAINERS = (TUPLE, SET, FROZENSET)


def downgrade(value: Any) -> Any:
    """A version-2 value as version 1 recorded it: containers as lists (sets sorted as version 1
    sorted them), mappings without their order and type, exceptions without their bases."""
    if isinstance(value, list):
        return [downgrade(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (marker, items), = value.items()
        if marker in _CONTAINERS and isinstance(items, list):
            items = [downgrade(v) for v in items]
            return items if marker == TUPLE else sorted(items, key=_sort_key)
        if marker == "__exception__" and isinstance(items, dict):
            return {marker: {k: v for k, v in items.items() if k != "bases"}}
    return {k: downgrade(v) for k, v in value.items() if k not in (ORDER, MAPPING)}


# sections only a version-2 trace has: what each step emitted besides its value, and the calls
# the instance forwarded to custom storages
V2_SECTIONS = ("warnings", "identity", "forwarded", "attributes")


def trace_at(trace: dict[str, Any], version: int) -> dict[str, Any]:
    """A trace as a trace of ``version`` would hold it (only ever lower: fidelity is not invented)."""
    if trace.get("schema_version", 1) <= version or version >= TRACE_VERSION:
        return trace
    out = {k: v for k, v in trace.items() if k not in V2_SECTIONS}
    if "result" in out:
        out["result"] = downgrade(out["result"])
    if isinstance(out.get("exception"), dict):
        out["exception"] = {k: v for k, v in out["exception"].items() if k != "bases"}
    out["schema_version"] = version
    return out


# argument types a storage call is recorded with in full (the query's terms); others by type
_QUERY_TYPES = ("Filter", "Bucket", "Cursor", "AssetKey", "Selector", "Status", "Type", "Key")


def forwarded_arg(value: Any, _depth: int = 0) -> Any:
    """One argument of a call the instance forwarded to a storage: plain values, enums and the
    query's terms (filters, buckets, cursors, keys) in full, containers item by item, any other
    object (a run, an event) by its type, which is what its presence and position say."""
    if value is None or isinstance(value, (bool, int, float, str, enum.Enum)):
        return to_jsonable(value, exact=True)
    if _depth < 4 and type(value) in (list, tuple, set, frozenset):  # records derive from tuple too
        items = [forwarded_arg(v, _depth + 1) for v in value]
        if isinstance(value, (set, frozenset)):
            items = sorted(items, key=_sort_key)
        return {TUPLE: items} if isinstance(value, tuple) else {SET: items} if isinstance(value, set) else \
            {FROZENSET: items} if isinstance(value, frozenset) else items
    if _depth < 4 and type(value) is dict:
        return {_key(k): forwarded_arg(v, _depth + 1) for k, v in sorted(value.items(), key=lambda kv: _key(kv[0]))}
    if type(value).__name__.endswith(_QUERY_TYPES):
        serialized = _serdes(value)
        if serialized is not _NOT_SERIALIZED:
            return serialized
        fields = _constructor_fields(value)
        if fields is None:
            return {"__repr__": stable_repr(value)}
        # field by field: a field a newer version adds, left at None, compares equal (``same``)
        return {"__type__": type(value).__name__, **{k: forwarded_arg(v, _depth + 1) for k, v in fields.items()}}
    return f"<{type(value).__name__}>"


def _constructor_fields(value: Any) -> dict[str, Any] | None:
    """The values of the parameters a record's constructor takes (records derive from tuple but
    refuse iteration, so ``_asdict`` cannot be used), or None when they cannot be read."""
    import inspect

    for ctor in (type(value).__new__, type(value).__init__):
        try:
            params = [p.name for p in inspect.signature(ctor).parameters.values()
                      if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ("self", "cls") and not p.name.startswith("_")]
        except (TypeError, ValueError):
            continue
        if params and all(hasattr(value, p) for p in params):
            return {p: getattr(value, p) for p in params}
    return None




def forwarded_calls(calls: list[Any]) -> list[list[Any]]:
    """Calls noted by custom storages, ``(role, method, args, kwargs)`` each, as trace data."""
    return [[role, method, [forwarded_arg(a) for a in args], {k: forwarded_arg(v) for k, v in kwargs.items()}]
            for role, method, args, kwargs in calls]


# warnings a finalizer emits when the collector happens to run: they fall in whichever step
# that is, not in the step whose behaviour made them
UNTIMED_WARNINGS = ("ResourceWarning",)


def warnings_data(records: list[Any]) -> list[list[str]]:
    """The warnings one step emitted (``warnings.catch_warnings(record=True)``), in order: the
    category's name and the message."""
    return [[w.category.__name__, _first_lines(str(w.message), 500)] for w in records
            if w.category.__name__ not in UNTIMED_WARNINGS]


def _is_mapping(value: Any) -> bool:
    from collections.abc import Mapping

    return isinstance(value, Mapping)


def _key(k: Any) -> str:
    if isinstance(k, str):
        return k
    if hasattr(k, "to_user_string"):
        try:
            return k.to_user_string()
        except Exception:  # noqa: BLE001
            pass
    j = to_jsonable(k)
    return j if isinstance(j, str) else json.dumps(j, sort_keys=True)


def _sort_key(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


# ---------------------------------------------------------------------------------------------
# normalization

UUID_RE = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
SHA_RE = re.compile(r"\b[0-9a-f]{40}\b")
HEX32_RE = re.compile(r"\b[0-9a-f]{32}\b")
ISO_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
DUR_RE = re.compile(r"\b\d+(\.\d+)?\s?(ms|s|sec|secs|seconds|minutes|min)\b")
PID_RE = re.compile(r"\b(pid|process id|PID)(:?\s*=?\s*)\d+")
ADDR_RE = re.compile(r"0x[0-9a-fA-F]{4,}")
LINE_RE = re.compile(r", line \d+")
# any of the above: one scan tells that a string has none of them
ANY_RE = re.compile("|".join(f"(?:{r.pattern})" for r in (UUID_RE, SHA_RE, HEX32_RE, ISO_RE, DUR_RE, PID_RE, ADDR_RE,
                                                           LINE_RE)))
TIME_KEYS = re.compile(r"(timestamp|(^|_)time($|_)|_at$|duration|elapsed|_ms$)", re.I)
PID_KEYS = {"pid", "process_id", "host_pid"}


class Normalizer:
    """Rewrites volatile values into placeholders numbered by order of first appearance."""

    def __init__(self, replacements: dict[str, str] | None = None) -> None:
        self.ids: dict[str, str] = {}
        self.shas: dict[str, str] = {}
        self.seen: dict[str, str] = {}
        # literal substrings replaced before the patterns, longest first
        self.replacements = sorted((replacements or {}).items(), key=lambda kv: -len(kv[0]))

    def _id(self, match: re.Match) -> str:
        text = match.group(0).lower()
        if text not in self.ids:
            self.ids[text] = f"<uuid-{len(self.ids) + 1}>"
        return self.ids[text]

    def _sha(self, match: re.Match) -> str:
        text = match.group(0)
        if text not in self.shas:
            self.shas[text] = f"<hash-{len(self.shas) + 1}>"
        return self.shas[text]

    def text(self, s: str) -> str:
        # a string seen before gives what it gave then: its ids and hashes were numbered at their
        # first appearance, which was then (most strings of a trace are names that repeat)
        done = self.seen.get(s)
        if done is None:
            done = self.seen[s] = self._text(s)
        return done

    def _text(self, s: str) -> str:
        for literal, placeholder in self.replacements:
            if literal and literal in s:
                s = s.replace(literal, placeholder)
        if not ANY_RE.search(s):  # no pattern below matches: each substitution would leave it
            return s
        s = UUID_RE.sub(self._id, s)
        s = SHA_RE.sub(self._sha, s)
        s = HEX32_RE.sub(self._sha, s)
        s = ISO_RE.sub("<datetime>", s)
        s = DUR_RE.sub("<duration>", s)
        s = PID_RE.sub(lambda m: m.group(1) + m.group(2) + "<pid>", s)
        s = ADDR_RE.sub("0x<addr>", s)
        s = LINE_RE.sub(", line <n>", s)
        return s

    def value(self, v: Any, key: str | None = None) -> Any:
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, (int, float)):
            if key is not None and (TIME_KEYS.search(key) or key in PID_KEYS):
                return "<pid>" if key in PID_KEYS else "<time>"
            if isinstance(v, float) and 1e9 <= v <= 1e10:
                return "<time>"
            if isinstance(v, int) and 1e12 <= v <= 1e13:  # epoch milliseconds
                return "<time>"
            return v
        if isinstance(v, Cut):
            whole = self.text(v.full)
            return whole if len(whole) <= v.limit else whole[:v.limit] + TRUNCATED
        if isinstance(v, str):
            if key is not None and TIME_KEYS.search(key) and _looks_numeric(v):
                return "<time>"
            return self.text(v)
        if isinstance(v, list):
            return [self.value(x, key) for x in v]
        if isinstance(v, dict):
            out = {}
            for k in sorted(v):  # sorted: numbering follows the canonical file order
                nk = self.text(k) if isinstance(k, str) else k
                out[nk] = self.value(v[k], k)
            return out
        return self.text(stable_repr(v))


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def default_replacements(tmpdirs: list[str] | None = None) -> dict[str, str]:
    """Literal environment-specific strings and their placeholders."""
    reps: dict[str, str] = {}
    for d in tmpdirs or []:
        if d:
            reps[d] = "<tmp>"
            reps[os.path.realpath(d)] = "<tmp>"
    tmp = tempfile.gettempdir()
    reps[tmp] = "<tmp>"
    reps[os.path.realpath(tmp)] = "<tmp>"
    reps[sys.executable] = "<python>"
    reps[sys.prefix] = "<prefix>"
    reps[os.getcwd()] = "<cwd>"
    try:
        host = socket.gethostname()
        if len(host) >= 4:
            reps[host] = "<host>"
    except OSError:
        pass
    try:
        import dagster

        version = getattr(dagster, "__version__", "")
        if version and version not in ("1!0+dev",):
            reps[version] = "<version>"
    except Exception:  # noqa: BLE001
        pass
    return reps


def normalize_trace(raw: dict[str, Any], tmpdirs: list[str] | None = None) -> dict[str, Any]:
    """Normalize the volatile parts of a raw trace; sections are normalized in a fixed order."""
    norm = Normalizer(default_replacements(tmpdirs))
    out = dict(raw)
    # the sections version 2 added come last: placeholders of the older ones keep their numbers
    for section in ("result", "exception", "state", "dispatch", "cell_error") + V2_SECTIONS:
        if section in raw:
            out[section] = norm.value(raw[section], None)
    return out


# ---------------------------------------------------------------------------------------------
# storage state


def _attempt(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - recorded as data
        return {"__exception__": exception_data(exc)}


def capture_state(instance: Any, dynamic_partition_names: list[str] | None = None) -> dict[str, Any]:
    """The complete final storage state of an instance, in a canonical order.

    Every storage the instance owns is read back, through the storages themselves (not the
    instance's own methods, which are what is under test): runs, the whole event log (events of
    deleted runs and runless events included), assets, dynamic partitions, asset checks,
    instigators and every tick (those of deleted instigators too), backfills, daemon heartbeats,
    concurrency slots, the key-value store, the defs state store where the version has one, and
    the compute-log files. A section a dagster version does not have is recorded as null (so it
    compares equal to an empty one), a section that cannot be read as the exception it raised.
    Entries keyed by run id are lists in storage order, never mappings: a mapping would be
    sorted by the raw uuid, which differs between recordings.
    """
    state: dict[str, Any] = {}
    runs = _attempt(lambda: _runs(instance))
    state["runs"] = runs
    run_ids = [r["run_id"] for r in runs] if isinstance(runs, list) else []
    state["event_log"] = _attempt(lambda: _event_log(instance, run_ids))
    state["asset_keys"] = _attempt(lambda: sorted(k.to_user_string() for k in instance.event_log_storage.all_asset_keys()))
    state["asset_events"] = _attempt(lambda: _asset_events(instance))
    state["asset_checks"] = _attempt(lambda: _asset_checks(instance))
    state["dynamic_partitions"] = _attempt(lambda: _dynamic_partitions(instance, dynamic_partition_names or []))
    state["instigators"] = _attempt(lambda: _instigators(instance))
    state["ticks"] = _attempt(lambda: _ticks(instance))
    state["backfills"] = _attempt(lambda: _backfills(instance))
    state["daemon_heartbeats"] = _attempt(lambda: _heartbeats(instance))
    state["concurrency"] = _attempt(lambda: _concurrency(instance))
    state["kvs"] = _attempt(lambda: _kvs(instance))
    state["defs_state"] = _attempt(lambda: _defs_state(instance))
    state["compute_logs"] = _attempt(lambda: _compute_logs(instance, run_ids))
    return state


def _or_none(value: Any) -> Any:
    """Empty sections are null, so that a storage one side lacks compares equal to an empty one."""
    return value if value else None


def _event_text(entry: Any) -> str:
    """One event as one short line: its type and step, and what distinguishes it."""
    label = _event_label(entry)
    event = entry.dagster_event
    if event is None:
        return _first_lines(f"{label}: {entry.user_message or ''}", len(label) + 2 + 120)
    key = getattr(event, "asset_key", None)
    if key is not None:
        label += f" [{key.to_user_string()}"
        partition = getattr(event, "partition", None)
        label += f":{partition}]" if partition else "]"
    return label


def _event_log(instance: Any, run_ids: list[str]) -> list[list[Any]]:
    """Every stored event, grouped by run: existing runs in storage order, then the runs that no
    longer exist (their events stayed behind), then runless events under the empty run id."""
    storage = instance.event_log_storage
    seen = set(run_ids)
    orphans: dict[str, float] = {}
    # a storage with one table of every event (dagster's in-memory one) is read in that one
    # query, grouped by run here, instead of once more per run
    by_run: dict[str, list[Any]] | None = {} if _one_table(storage) else None
    try:
        for entry in storage.get_logs_for_all_runs_by_log_id(after_cursor=-1).values():
            if by_run is not None:
                by_run.setdefault(entry.run_id, []).append(entry)
            if entry.run_id and entry.run_id not in seen:
                orphans.setdefault(entry.run_id, entry.timestamp)
    except NotImplementedError:
        by_run = None
    base = getattr(storage, "_base_dir", None)  # the sqlite storage keeps one database per run
    if isinstance(base, str) and os.path.isdir(base):
        for name in os.listdir(base):
            rid = name[:-3] if name.endswith(".db") else None
            if rid and rid != "index" and rid not in seen and rid not in orphans:
                logs = storage.get_logs_for_run(rid)
                if logs:
                    orphans[rid] = logs[0].timestamp
    out: list[list[Any]] = []
    ordered = [(rid, False) for rid in run_ids]
    ordered += [(rid, True) for rid, _ in sorted(orphans.items(), key=lambda kv: (kv[1], kv[0]))]
    ordered.append(("", True))
    for rid, orphan in ordered:
        logs = by_run.get(rid, []) if by_run is not None else storage.get_logs_for_run(rid)
        events = [_event_text(e) for e in logs]
        if events or not orphan:
            out.append([rid, "orphan" if orphan and rid else "run" if rid else "runless", events])
    return out


def _one_table(storage: Any) -> bool:
    """Whether ``storage`` is exactly dagster's in-memory event log, whose every event, of every
    run and runless, is in the one table ``get_logs_for_all_runs_by_log_id`` reads (a sqlite event
    log keeps a database per run; a subclass may answer either query its own way)."""
    try:
        from dagster._core.storage.event_log.in_memory import InMemoryEventLogStorage
    except ImportError:
        return False
    return type(storage) is InMemoryEventLogStorage


def _asset_checks(instance: Any) -> list[Any] | None:
    from dagster._core.events import DagsterEventType
    from dagster._core.event_api import EventRecordsFilter

    out = []
    for etype in ("ASSET_CHECK_EVALUATION", "ASSET_CHECK_EVALUATION_PLANNED"):
        member = getattr(DagsterEventType, etype, None)
        if member is None:
            continue
        for r in instance.event_log_storage.get_event_records(EventRecordsFilter(event_type=member), ascending=True):
            data = r.event_log_entry.dagster_event.event_specific_data
            key = getattr(data, "asset_check_key", None) or getattr(data, "asset_key", None)
            name = getattr(data, "check_name", None)
            out.append([etype, key.to_user_string() if hasattr(key, "to_user_string") else str(key), name,
                        getattr(data, "passed", None)])
    return _or_none(out)


def _dynamic_partitions(instance: Any, names: list[str]) -> dict[str, Any]:
    """Every dynamic partition in storage, read from its table (so partitions of definitions no
    scenario declared are seen too), else through the storage for the declared names."""
    storage = instance.event_log_storage
    try:
        from dagster._core.storage.event_log.schema import DynamicPartitionsTable
        import sqlalchemy as db

        with storage.index_connection() as conn:
            rows = conn.execute(db.select(DynamicPartitionsTable.c.partitions_def_name,
                                          DynamicPartitionsTable.c.partition)
                                .order_by(DynamicPartitionsTable.c.id.asc())).fetchall()
        out: dict[str, list[str]] = {}
        for name, partition in rows:
            out.setdefault(name, []).append(partition)
        for name in names:
            out.setdefault(name, [])
        return out
    except (ImportError, AttributeError, NotImplementedError):
        return {name: list(storage.get_dynamic_partitions(name)) for name in sorted(names)}


def _ticks(instance: Any) -> list[Any] | None:
    """Every tick in the schedule storage, in storage order, whatever instigator it belongs to."""
    storage = instance.schedule_storage
    if storage is None:
        return None
    from dagster._core.storage.schedules.schema import JobTickTable
    from dagster._serdes import deserialize_value
    import sqlalchemy as db

    with storage.connect() as conn:
        rows = conn.execute(db.select(JobTickTable.c.id, JobTickTable.c.tick_body)
                            .order_by(JobTickTable.c.id.asc())).fetchall()
    out = []
    for _, body in rows:
        t = deserialize_value(body)
        out.append({"name": t.instigator_name, "type": t.instigator_type.value, "status": t.status.value,
                    "run_ids": list(t.run_ids), "skip_reason": t.skip_reason, "cursor": t.cursor,
                    "error": t.error.cls_name if t.error else None})
    return _or_none(out)


def _concurrency(instance: Any) -> dict[str, Any] | None:
    storage = instance.event_log_storage
    out = {}
    for key in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(key)
        out[key] = {"slots": info.slot_count, "claimed": sorted(f"{s.step_key}" for s in info.claimed_slots),
                    "pending": sorted(f"{s.step_key}" for s in info.pending_steps)}
    return _or_none(out)


def _kvs(instance: Any) -> dict[str, Any] | None:
    """The whole key-value store of the run storage (cursors, daemon state, flags)."""
    storage = instance.run_storage
    from dagster._core.storage.runs.schema import KeyValueStoreTable
    import sqlalchemy as db

    with storage.connect() as conn:
        rows = conn.execute(db.select(KeyValueStoreTable.c.key, KeyValueStoreTable.c.value)
                            .order_by(KeyValueStoreTable.c.key.asc())).fetchall()
    return _or_none({k: _first_lines(v or "", 300) for k, v in rows})


def _defs_state(instance: Any) -> Any:
    storage = getattr(instance, "defs_state_storage", None)  # newer dagster versions only
    if storage is None:
        return None
    info = storage.get_latest_defs_state_info()
    if info is None or not info.info_mapping:
        return None
    return {k: (v.version if v is not None else None) for k, v in sorted(info.info_mapping.items())}


def _compute_logs(instance: Any, run_ids: list[str]) -> list[Any] | None:
    """The compute-log files a local compute log manager wrote: per run (in storage order, then
    any other directory by name), the kinds of file it holds. File names are random per capture,
    and the captured streams carry timings and process-wide notices printed once per worker, so
    contents are not recorded."""
    base = getattr(instance.compute_log_manager, "_base_dir", None)
    if not isinstance(base, str) or not os.path.isdir(base):
        return None
    dirs = sorted(os.listdir(base), key=lambda d: (run_ids.index(d) if d in run_ids else len(run_ids), d))
    out = []
    for d in dirs:
        files = sorted(name.rsplit(".", 1)[-1] for _, _, names in os.walk(os.path.join(base, d)) for name in names
                       if name.rsplit(".", 1)[-1] in ("out", "err", "complete"))
        if files:
            out.append([d, files])
    return _or_none(out)


def _runs(instance: Any) -> list[dict[str, Any]]:
    records = sorted(instance.run_storage.get_run_records(), key=lambda r: r.storage_id)
    out = []
    for rec in records:
        run = rec.dagster_run
        out.append(
            {
                "run_id": run.run_id,
                "job_name": run.job_name,
                "status": run.status.value,
                "tags": dict(sorted(run.tags.items())),
                "parent_run_id": run.parent_run_id,
                "root_run_id": run.root_run_id,
                "asset_selection": sorted(k.to_user_string() for k in (run.asset_selection or [])),
            }
        )
    return out


def _event_label(entry: Any) -> str:
    if entry.dagster_event is None:
        return "LOG"
    label = entry.dagster_event.event_type_value
    if entry.step_key:
        label += f"@{entry.step_key}"
    return label


def _asset_events(instance: Any) -> dict[str, Any]:
    from dagster._core.event_api import EventRecordsFilter
    from dagster._core.events import DagsterEventType

    out: dict[str, Any] = {}
    for etype in (DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION):
        records = instance.event_log_storage.get_event_records(EventRecordsFilter(event_type=etype), ascending=True)
        out[etype.value] = [
            {
                "asset": r.event_log_entry.dagster_event.asset_key.to_user_string()
                if r.event_log_entry.dagster_event.asset_key
                else None,
                "partition": r.event_log_entry.dagster_event.partition,
                "run_id": r.event_log_entry.run_id,
            }
            for r in records
        ]
    return out


def _instigators(instance: Any) -> list[dict[str, Any]] | None:
    storage = instance.schedule_storage
    if storage is None:
        return None
    states = sorted(storage.all_instigator_state(), key=lambda s: (s.name, s.instigator_origin_id))
    return _or_none([{"name": st.name, "type": st.instigator_type.value, "status": st.status.value,
                      "origin_id": st.instigator_origin_id, "selector_id": st.selector_id,
                      "cursor": getattr(st.instigator_data, "cursor", None)} for st in states])


def _backfills(instance: Any) -> list[dict[str, Any]]:
    return [
        {"id": b.backfill_id, "status": b.status.value, "tags": dict(sorted((b.tags or {}).items())),
         "partition_names": list(b.partition_names or [])}
        for b in sorted(instance.run_storage.get_backfills(), key=lambda b: b.backfill_id)
    ]


def _heartbeats(instance: Any) -> dict[str, Any]:
    return {
        t: {"daemon_id": hb.daemon_id, "errors": len(hb.errors or [])}
        for t, hb in sorted(instance.run_storage.get_daemon_heartbeats().items())
    }


# ---------------------------------------------------------------------------------------------
# dispatch sequence


def dispatch_key(event: dict[str, Any]) -> str:
    """The part of a dispatch event that must match between old and new: member, access kind
    and the shape of the arguments. The caller is context (methods move between mixins)."""
    args = ",".join(event.get("args", []))
    kwargs = ",".join(f"{k}={v}" for k, v in sorted(event.get("kwargs", {}).items()))
    sep = ";" if args and kwargs else ""
    return f"{event['member']}:{event['kind']}({args}{sep}{kwargs})"


def compress_dispatch(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Collapse runs of identical consecutive events into one event with a count."""
    out: list[dict[str, Any]] = []
    for ev in events:
        last = out[-1] if out else None
        # the last event without its count equals this one (compared in place, not copied)
        if last is not None and "n" not in ev and len(last) == len(ev) + 1 and \
                all(k in last and last[k] == v for k, v in ev.items()):
            last["n"] += 1
        else:
            out.append({**ev, "n": 1})
    return out


def make_trace(cell: dict[str, str], *, result: Any, exception: dict | None, state: dict, dispatch: list,
               meta: dict[str, Any], tmpdirs: list[str], cell_error: str | None = None,
               warnings: dict[str, Any] | None = None, identity: dict[str, Any] | None = None,
               forwarded: list[Any] | None = None, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    raw = {
        "schema": TRACE_SCHEMA,
        "schema_version": TRACE_VERSION,
        "cell": dict(cell),
        "result": result,
        "exception": exception,
        "state": state,
        "dispatch": compress_dispatch(dispatch),
        "cell_error": cell_error,
        "meta": meta,
        "warnings": warnings or None,
        "identity": identity or None,
        "forwarded": forwarded or None,
        "attributes": attributes or None,
    }
    return normalize_trace(raw, tmpdirs)

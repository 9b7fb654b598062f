"""Declared shapes of the files a baseline holds, checked with pydantic on every read.

The canonical-JSON reader (:func:`compat.model.jsonio.read_json`) checks a file's kind and
version; these models check its content, so that a hand-edited or damaged file is refused in
one line naming the file, the place inside it and what was expected, instead of turning into
invented findings or a traceback. Fields a newer harness may add are allowed and kept.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, TypeVar

from packaging.version import InvalidVersion, Version
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    create_model,
)

from compat.model import surface
from compat.model.errors import CompatError
from compat.model.findings import FAIL_ON
from compat.model.jsonio import read_json
from compat.model.trace import TRACE_SCHEMA, TRACE_VERSIONS


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CellSelection(BaseModel):
    """A narrowing of a manifest's cell set, as `compat baseline --scenarios` recorded it: the
    arguments `plan_cells` was given (each None: the cell set's own choice)."""
    model_config = ConfigDict(extra="forbid")
    subclasses: Optional[Annotated[list[StrictStr], Field(min_length=1)]] = None
    scenarios: Optional[Annotated[list[StrictStr], Field(min_length=1)]] = None
    storages: Optional[Annotated[list[StrictStr], Field(min_length=1)]] = None


class Manifest(_Open):
    target: StrictStr
    generator: dict[str, Any] = Field(default_factory=dict)
    profiles: list[StrictStr] = Field(default_factory=list)
    cells: StrictInt = 0
    cell_set: Optional[StrictStr] = None
    # the cells were recorded for the cell set narrowed so (absent: the whole set)
    selection: Optional[CellSelection] = None
    fuzz_programs: StrictInt = 0
    # sha256 of every file of the baseline but the manifest and accepted.json, by path (recorded
    # since the digests were added; an older manifest without them is read with a note)
    digests: Optional[dict[StrictStr, Annotated[StrictStr, StringConstraints(pattern=r"^[0-9a-f]{64}$")]]] = None


class ToolCompat(BaseModel):
    """`[tool.compat]` of a project's pyproject.toml (keys spelt with - or _)."""
    model_config = ConfigDict(extra="forbid")
    baseline: Optional[StrictStr] = None
    target: Optional[StrictStr] = None
    report: Optional[StrictStr] = None
    python: Optional[StrictStr] = None
    path_prefix: Optional[StrictStr] = None
    fail_on: Optional[Literal[FAIL_ON]] = None
    behaviour: Optional[StrictBool] = None


class AcceptedEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: StrictStr
    member: StrictStr
    reason: StrictStr


class AcceptedFile(_Open):
    accepted: list[AcceptedEntry] = Field(default_factory=list)


class StoredProgram(_Open):
    subclass: StrictStr
    storage: StrictStr
    steps: list[tuple[StrictStr, dict[StrictStr, Any]]]
    results: list[Any]


class ProgramsFile(_Open):
    """fuzz/programs.json: each program's steps with one recorded result per step (a program with
    fewer results than steps would compare nothing and always pass)."""
    programs: list[StoredProgram]


class TraceFile(_Open):
    cell: dict[StrictStr, StrictStr]
    dispatch: list[dict[str, Any]]
    result: Any = None
    exception: Any = None
    cell_error: Any = None
    state: dict[str, Any] = Field(default_factory=dict)
    # version 2: per step, the warnings it emitted ([category, message]) and whether its value
    # is the object an earlier step returned or one the instance holds
    warnings: Optional[dict[StrictStr, list[Annotated[list[StrictStr], Field(min_length=2, max_length=2)]]]] = None
    identity: Optional[dict[StrictStr, dict[StrictStr, Any]]] = None
    # version 2: the calls the instance made into custom storages, [role, method, args, kwargs]
    forwarded: Optional[list[tuple[StrictStr, StrictStr, list[Any], dict[StrictStr, Any]]]] = None
    # version 2: per step, the instance attributes it added or removed; "(start)": those present
    attributes: Optional[dict[StrictStr, dict[Literal["added", "removed", "present"], list[StrictStr]]]] = None


class HistoryCause(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: StrictStr
    severity: Literal["breaking", "warning", "info"]
    title: StrictStr
    location: Optional[StrictStr]
    packages: list[StrictStr]
    layers: dict[StrictStr, StrictInt]
    cells: list[StrictStr]


class HistoryStep(_Open):
    """One cached comparison of two releases in a history (see compat.tools.history)."""
    old: StrictStr
    new: StrictStr
    causes: list[HistoryCause]


_Ranges = Annotated[StrictStr, StringConstraints(pattern=r"^(\d+(-\d+)?(,\d+(-\d+)?)*)?$")]


class ReachTouched(BaseModel):
    """What a recording reached besides functions (compat.behaviour.reach.Touches)."""
    model_config = ConfigDict(extra="forbid")
    distributions: list[StrictStr]
    metadata: dict[StrictStr, StrictStr]
    asked: list[StrictStr]
    listed: list[StrictStr]
    opened: list[StrictStr]


REACH_SCHEMA = "compat.reach"
# 2: what the recording imported and touched besides functions; 3: each imported module's frame and
# signatures, the harness functions a cell ran (1 and 2 are still read)
REACH_VERSION = 3


class ReachFile(BaseModel):
    """reach.json: what each recorded cell and program executed (compat.behaviour.reach)."""
    model_config = ConfigDict(extra="forbid")
    schema_: StrictStr = Field(alias="schema")
    schema_version: StrictInt
    python: StrictStr
    harness: StrictStr
    dependencies: dict[StrictStr, StrictStr]
    files: dict[StrictStr, StrictStr]
    skeletons: dict[StrictStr, StrictStr]
    functions: dict[StrictStr, StrictStr]
    stateful: _Ranges
    cells: dict[StrictStr, _Ranges]
    programs: dict[StrictStr, _Ranges]
    imported: Optional[_Ranges] = None  # version 2
    touched: Optional[ReachTouched] = None  # version 2
    frames: Optional[dict[StrictStr, StrictStr]] = None  # version 3
    signatures: Optional[dict[StrictStr, StrictStr]] = None  # version 3


M = TypeVar("M", bound=BaseModel)


def check(model: type[M], data: dict, path: str | Path, hint: str = "re-record it or fix it by hand") -> M:
    """`data` read from `path`, validated; a violation is one line (the first one)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CompatError(f"{path}: {where}: {err['msg'].lower()}{more}; {hint}") from None


def trace_filename(cell: dict[str, str]) -> str:
    """The file a cell's trace is kept in: `spy-background-thread__runs_lifecycle__memory.json`."""
    sub = cell["subclass"].replace(":", "-").replace("/", "-")
    return f"{sub}__{cell['scenario']}__{cell['storage']}.json"


def read_trace(path: str | Path, *, dagster: str | None = None) -> dict:
    """A recorded trace file, its kind, version and shape checked, and its content held to what
    it claims: the cell its file is named for (a file holding another cell's trace would compare
    that cell twice and this one never), the members it spied (a spy cell that spied none, or a
    dispatch of a member it did not spy, would make every dispatch comparison vanish), the steps
    its results are of, and, given the ``dagster`` its baseline was recorded on, that release (a
    trace planted from another release would compare that release's behaviour)."""
    data = read_json(path, schema=TRACE_SCHEMA, versions=TRACE_VERSIONS)
    check(TraceFile, data, path)
    path = Path(path)
    cell = data["cell"]
    if not {"subclass", "scenario", "storage"} <= set(cell):
        missing = sorted({"subclass", "scenario", "storage"} - set(cell))
        raise CompatError(f"{path}: cell.{missing[0]}: field required; re-record it or fix it by hand")
    if trace_filename(cell) != path.name:
        raise CompatError(f"{path}: holds the trace of cell {cell['subclass']}/{cell['scenario']}/{cell['storage']}, "
                          f"not of the cell its name says; re-record it")
    meta = data.get("meta", {})
    spied = meta.get("spied_members") if isinstance(meta, dict) else None
    if spied is not None and not (isinstance(spied, list) and all(isinstance(m, str) for m in spied)):
        raise CompatError(f"{path}: meta.spied_members: expected a list of member names; re-record it")
    members = {ev.get("member") for ev in data["dispatch"]} - {None}
    if data["cell_error"] is None and not spied and (members or cell["subclass"].split(":", 1)[0] == "spy"):
        raise CompatError(f"{path}: meta.spied_members is empty, but the cell ran its spy"
                          f"{' and recorded dispatches' if members else ''}: every dispatch comparison would "
                          "vanish; re-record it")
    spied_set = set(spied or ())
    unspied = sorted(m for m in members if not isinstance(m, str) or m not in spied_set)
    if unspied:
        raise CompatError(f"{path}: dispatch names {unspied[0]!r}, which meta.spied_members does not list; "
                          "re-record it")
    steps = meta.get("steps") if isinstance(meta, dict) else None
    if steps is not None and not (isinstance(steps, list) and all(isinstance(s, str) for s in steps)):
        raise CompatError(f"{path}: meta.steps: expected a list of step names; re-record it")
    if steps is not None and data["cell_error"] is None and isinstance(data["result"], dict) \
            and set(steps) != set(data["result"]):
        odd = sorted(set(steps) ^ set(data["result"]))[0]
        raise CompatError(f"{path}: meta.steps and the recorded results disagree on step {odd!r}; re-record it")
    recorded = _release(meta.get("dagster_version")) if isinstance(meta, dict) else None
    if recorded is not None and _release(dagster) not in (None, recorded):
        raise CompatError(f"{path}: recorded on dagster {meta['dagster_version']}, but the baseline on {dagster}: "
                          "a trace of another recording; re-record it")
    return data


def _release(text: Any):
    """`text` as a version, or None when it is none (a checkout's "unknown")."""
    try:
        return Version(text) if isinstance(text, str) else None
    except InvalidVersion:
        return None


def read_reach(path: str | Path) -> dict:
    """A baseline's reach map, its kind, version and shape checked; every function a cell names
    must have its hash."""
    data = read_json(path, schema=REACH_SCHEMA, versions=(1, 2, REACH_VERSION))
    check(ReachFile, data, path)
    if (data["schema_version"] >= 2) != ("imported" in data and "touched" in data):
        raise CompatError(f"{path}: version {data['schema_version']} {'needs' if data['schema_version'] >= 2 else 'has'} "
                          "'imported' and 'touched'; re-record it or fix it by hand")
    if (data["schema_version"] >= 3) != ("frames" in data and "signatures" in data):
        raise CompatError(f"{path}: version {data['schema_version']} {'needs' if data['schema_version'] >= 3 else 'has'} "
                          "'frames' and 'signatures'; re-record it or fix it by hand")
    count = len(data["functions"])
    top_file = max((int(n) for n in (data.get("imported") or "").replace("-", ",").split(",") if n), default=-1)
    if top_file >= len(data["files"]):
        raise CompatError(f"{path}: imported: file index {top_file} is out of range ({len(data['files'])} files); "
                          "re-record it or fix it by hand")
    packed = [("stateful", data["stateful"])] + [(f"{kind}.{name}", text) for kind in ("cells", "programs")
                                                   for name, text in data[kind].items()]
    for where, text in packed:
        top = max((int(n) for n in text.replace("-", ",").split(",") if n), default=-1)
        if top >= count:
            raise CompatError(f"{path}: {where}: function index {top} is out of range ({count} functions); "
                              "re-record it or fix it by hand")
    return data


# --- the surface snapshot ------------------------------------------------------------------------
# Built from the surface dataclasses themselves, so the schema cannot drift from the model:
# scalars are strict, kinds are the harness's own, and no unknown key is accepted.
_CHOICES = {
    ("Parameter", "kind"): (surface.POSITIONAL_ONLY, surface.POSITIONAL_OR_KEYWORD, surface.VAR_POSITIONAL,
                            surface.KEYWORD_ONLY, surface.VAR_KEYWORD),
    ("Member", "kind"): surface.KINDS,
    ("Member", "visibility"): (surface.PUBLIC, surface.PROTECTED, surface.DUNDER),
    ("InstanceAttribute", "visibility"): (surface.PUBLIC, surface.PROTECTED, surface.DUNDER),
}
_STRICT = {str: StrictStr, int: StrictInt, bool: StrictBool}


def _strict(tp):
    """`tp` with its scalars strict and its dataclasses replaced by their pydantic models."""
    if tp in _STRICT:
        return _STRICT[tp]
    if dataclasses.is_dataclass(tp):
        return _model_of(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, dict):
        return origin[tuple(_strict(a) for a in args)] if args else origin
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_strict(a) for a in args)]
    return tp


@functools.cache
def _model_of(cls) -> type[BaseModel]:
    hints = typing.get_type_hints(cls)
    spec = {}
    for f in dataclasses.fields(cls):
        choices = _CHOICES.get((cls.__name__, f.name))
        tp = Literal[choices] if choices else _strict(hints[f.name])
        # every field the writer emits is required, except those defaulting to None: "unknown",
        # the convention for a field added later, absent from surfaces recorded before it
        default = None if f.default is None else ...
        if hasattr(BaseModel, f.name):  # e.g. `mro`: kept under another attribute, read by its name
            spec[f"{f.name}_"] = (tp, Field(default, alias=f.name))
        else:
            spec[f.name] = (tp, default)
    return create_model(f"{cls.__name__}Schema", __config__=ConfigDict(extra="forbid"), **spec)


@functools.cache
def _surface_file() -> type[BaseModel]:
    base = _model_of(surface.Surface)
    return create_model("SurfaceFile", __base__=base, file_schema=(StrictStr, Field(alias="schema")),
                        schema_version=(StrictInt, ...))


def check_surface(data: dict, path: str | Path) -> None:
    check(_surface_file(), data, path)


@functools.cache
def file_model(cls) -> type[BaseModel]:
    """The schema of a file holding one dataclass of the model (a profile, say) at its top level,
    with the file's `schema` and `schema_version`, derived from the dataclass like the surface's."""
    return create_model(f"{cls.__name__}File", __base__=_model_of(cls), file_schema=(StrictStr, Field(alias="schema")),
                        schema_version=(StrictInt, ...))

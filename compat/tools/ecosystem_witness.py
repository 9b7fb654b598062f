"""Witnesses of the ecosystem's breaking causes that no replay shows: the downstream class itself, on both dagsters.

A profile check says a downstream class breaks; the replay shows it for the few packages whose
bases the harness can drive (:mod:`compat.tools.ecosystem_replay`). For every other breaking
cause this module writes a program that imports the class from its package and exercises the
contract the cause says is broken, and runs it on both sides, the way the instance's witnesses
run (:mod:`compat.witness`):

- an override whose signature no longer fits the base (``override-signature-incompatible``):
  every call that the side's own dagster makes of the member, and that the side's base accepts,
  bound to the downstream method (Python's own binding, before the body runs). The new dagster
  passing a keyword the old override lacks is a ``TypeError`` on the new side only.
- an override whose annotations no longer fit (``override-return-incompatible``, typing only):
  the package's own module type-checked against each side's dagster (:mod:`compat.typecheck`).
- a name the base now assigns that the subclass already uses (``subclass-name-clash``): the class
  constructed and used the way its base's own code uses it (an instance entered and left as a
  context manager; an IO manager storing an asset and loading it back).

As for the replay, the package's release for the *old* dagster runs on both sides (what its users
have installed when they upgrade dagster): its unpacked wheel and a pinned runtime
(:data:`RUNTIME`, installed ``--no-deps`` for each side's interpreter) go on the program's path, so
only dagster differs and nothing is installed into an environment the user owns. Passing on the
old side and failing on the new proves the cause; anything else leaves it unproven, and an
unproven cause is at most a warning (docs/severity.md). Outcomes are cached by the program's text,
the side's content, the wheel's hash and the runtime, so a warm run starts no interpreter.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from compat import downstream, envs, typecheck
from compat.causes import Cause
from compat.model.errors import CompatError
from compat.model.findings import BREAKING, Finding
from compat.sides import Side
from compat.static.profile_attributes import subclass_name_clash
from compat.static.profile_overrides import override_return_incompatible, override_signature_incompatible
from compat.tools import ecosystem_replay
from compat import witness as witness_mod

# per package: what its old release needs besides dagster to import the classes a witness uses,
# pinned so that only dagster differs between the sides (found by importing them on both)
RUNTIME: dict[str, tuple[str, ...]] = {
    "dagster-cloud": ("dagster-cloud-cli==1.11.4", "opentelemetry-api==1.27.0", "opentelemetry-sdk==1.27.0",
                      "opentelemetry-semantic-conventions==0.48b0", "deprecated==1.3.1", "wrapt==2.5.2",
                      "importlib-metadata==10.2.0", "zipp==4.1.2", "lazy-importer==0.1.0", "questionary==2.1.1",
                      "typer==0.29.2"),
    "dagster-nomad": ("httpx==0.24.1", "httpcore==0.17.3", "h11==0.14.0", "sniffio==1.3.1", "anyio==3.7.1"),
    "dagster-polars": ("polars==1.32.0", "pyarrow==21.0.0"),
    "dagster-serde": ("pyserde==0.24.0", "orjson==3.11.1", "casefy==1.1.0", "typing-inspect==0.9.0",
                      "mypy-extensions==1.2.0", "plum-dispatch==2.10.1", "beartype==0.23.1"),
}

# classes a witness constructs: the keyword arguments their own constructor needs beyond the base's
# (a placeholder API address nothing connects to)
CONSTRUCT: dict[str, dict] = {
    "dagster_cloud.instance.DagsterCloudAgentInstance": {
        "dagster_cloud_api": {"url": "http://127.0.0.1:9", "agent_token": "agent:witness:token"},
        "user_code_launcher": {"module": "dagster_cloud.workspace.user_code_launcher",
                               "class": "ProcessUserCodeLauncher", "config": {}},
    },
}

# IO manager bases a witness stores an asset through: per downstream class, a concrete class of its
# package ("module:Class"), the import its value needs, the value and its annotation
ROUNDTRIP: dict[str, tuple[str, str, str, str]] = {
    "dagster_polars.io_managers.base.BasePolarsUPathIOManager": (
        "dagster_polars:PolarsParquetIOManager", "import polars as pl", "pl.DataFrame({'x': [1, 2]})", "pl.DataFrame"),
    "dagster_serde.io_managers.base.BaseSerdeUPathIOManager": (
        "dagster_serde.io_managers.json:JsonIOManager", "", "{'x': [1, 2]}", "dict"),
}

SIGNATURE = override_signature_incompatible.rule_id
RETURNS = override_return_incompatible.rule_id
CLASH = subclass_name_clash.rule_id


@dataclass
class Job:
    """One witness of one (downstream class, cause): a runtime program, or a module to type-check."""

    cause: str
    package: str  # "dagster-aws 0.27.4"
    subclass: str  # dotted
    code: str
    kind: str = witness_mod.RUNTIME
    module: str | None = None  # a typing job: the package module mypy checks, and the member judged
    member: str | None = None


# ---- the programs

def _split(dotted: str) -> tuple[str, str]:
    module, _, name = dotted.rpartition(".")
    return module, name


def _downstream_import(subclass: str) -> str:
    module, name = _split(subclass)
    return textwrap.dedent(f"""\
        import sys

        # the downstream class itself, from its package's release for the old dagster (on both sides)
        try:
            from {module} import {name} as Downstream
        except Exception as e:  # the package's own imports of dagster fail here: shows nothing about this cause
            print(f"set-up failed: cannot import {name}: {{type(e).__name__}}: {{e}}", file=sys.stderr)
            raise SystemExit(3)
        """)


def _base_import(targets: list[str]) -> str:
    """The base on this side: where it was, else where the new dagster has it."""
    places = ", ".join(f"({t.split(':')[0]!r}, {t.split(':')[1]!r})" for t in targets)
    return textwrap.dedent(f"""\
        import importlib


        def side_base():
            for module, name in [{places}]:
                try:
                    return getattr(importlib.import_module(module), name)
                except (ImportError, AttributeError):
                    continue
            print("set-up failed: the base is not on this side", file=sys.stderr)
            raise SystemExit(3)
        """)


# the downstream method as the package's source defines it, for a side where its module does not
# import (its own imports of dagster names the side lacks): the same `def`, its body left out
_FROM_SOURCE = textwrap.dedent("""\
    import ast
    import os


    def from_source(module, cls, name):
        rel = module.replace(".", os.sep)
        for root in sys.path:
            for path in (os.path.join(root, rel + ".py"), os.path.join(root, rel, "__init__.py")):
                if not os.path.isfile(path):
                    continue
                with open(path, encoding="utf-8") as fh:
                    tree = ast.parse(fh.read())
                for node in tree.body:
                    if not (isinstance(node, ast.ClassDef) and node.name == cls):
                        continue
                    for fn in node.body:
                        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name == name:
                            args = fn.args
                            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                                if a is not None:
                                    a.annotation = None
                            args.defaults = [ast.Constant(None) for _ in args.defaults]
                            args.kw_defaults = [None if d is None else ast.Constant(None) for d in args.kw_defaults]
                            kinds = [d.id for d in fn.decorator_list if isinstance(d, ast.Name)
                                     and d.id in ("staticmethod", "classmethod")]
                            stub = ast.FunctionDef(name=name, args=args, body=[ast.Pass()], decorator_list=[],
                                                   returns=None, type_params=[])
                            space = {}
                            exec(compile(ast.fix_missing_locations(ast.Module([stub], [])), path, "exec"), space)
                            made = space[name]
                            return {"staticmethod": staticmethod, "classmethod": classmethod}.get(
                                (kinds or [None])[0], lambda f: f)(made)
        return None
    """)


def _signature_program(subclass: str, member: str, targets: list[str]) -> str:
    """The downstream override bound to every call the side's dagster makes of the member that the
    side's own base accepts: the base promises its callers those calls, so an override must take them.
    Where the package's module does not import beside a side's dagster, its `def` is read from the
    package's source: the binding needs the signature only."""
    module, name = _split(subclass)
    return textwrap.dedent(f"""\
        import sys

        # the downstream class itself, from its package's release for the old dagster (on both sides)
        try:
            from {module} import {name} as Downstream
            unimportable = None
        except Exception as e:
            Downstream, unimportable = None, f"{{type(e).__name__}}"
        """) + "\n" + _base_import(targets) + "\n" + witness_mod.CALL_SITES + "\n" + _FROM_SOURCE + textwrap.dedent(f"""\
        import inspect


        def binder(cls, name):
            # the callable as dagster reaches it through the class: a plain method takes its instance first
            static = inspect.getattr_static(cls, name) if cls is not None else from_source({module!r}, {name!r}, name)
            if static is None:
                print("set-up failed: {name}.{member} is neither importable nor in the package's source",
                      file=sys.stderr)
                raise SystemExit(3)
            bare = static.__func__ if isinstance(static, (staticmethod, classmethod)) else static
            sig = inspect.signature(bare)
            drop = 0 if isinstance(static, staticmethod) else 1  # the instance, or the class, bound by Python
            sig = sig.replace(parameters=list(sig.parameters.values())[drop:])
            return lambda args, kwargs: sig.bind(*args, **kwargs)


        base, override = binder(side_base(), {member!r}), binder(Downstream, {member!r})
        how = "" if unimportable is None else f" (its def read from the package's source: the module raises {{unimportable}} here)"
        checked = 0
        for (n_args, keywords), where in call_sites({member!r}, any_receiver=True):
            args, kwargs = [None] * n_args, dict.fromkeys(keywords)
            try:
                base(args, kwargs)
            except TypeError:
                continue  # a call of another class's `{member}`: not one the base promises
            checked += 1
            try:
                override(args, kwargs)
            except TypeError as e:
                raise TypeError(f"{name}.{member}: {{e}} (called as {{where}} calls it){{how}}") from None
        print(f"{name}.{member} takes all {{checked}} call shape(s) of this dagster{{how}}")
        """)


def _clash_instance_program(subclass: str, attribute: str) -> str:
    """An instance subclass that keeps state under a name the base now assigns in `__enter__`:
    constructed, a context left in what it keeps there (as its own code does with its sessions),
    entered and left as its users do; what it kept must have been closed by its own `dispose`."""
    name = _split(subclass)[1]
    extra = json.dumps(CONSTRUCT[subclass], sort_keys=True)
    return _downstream_import(subclass) + "\n" + witness_mod.INSTANCE_PARTS + textwrap.dedent(f"""\
        import json


        instance = Downstream(**instance_arguments(), **json.loads({extra!r}))
        kept = getattr(instance, {attribute!r}, None)
        if not hasattr(kept, "callback"):
            print("set-up failed: {name} keeps no exit stack under `{attribute}`", file=sys.stderr)
            raise SystemExit(3)
        closed = []
        kept.callback(closed.append, "closed")  # what the subclass keeps there, as its own sessions are
        with instance:
            pass
        if not closed:
            raise SystemExit("AssertionError: `with instance:` replaced {name}'s own `{attribute}`: what it kept "
                             "there was never closed")
        print("{name}'s own `{attribute}` was closed when the instance was left")
        """)


def _roundtrip_program(subclass: str) -> str:
    """An IO manager of the package storing an asset and loading it back through dagster's own
    materialization: the base's code paths that read the clashing name, with the subclass's value."""
    concrete, value_import, value, annotation = ROUNDTRIP[subclass]
    module, cls = concrete.split(":")
    return textwrap.dedent(f"""\
        import sys
        import tempfile

        try:
            {value_import or 'pass'}
            from {module} import {cls} as Concrete
            from dagster import asset, materialize
        except Exception as e:
            print(f"set-up failed: {{type(e).__name__}}: {{e}}", file=sys.stderr)
            raise SystemExit(3)


        @asset(io_manager_key="io")
        def stored() -> {annotation}:
            return {value}


        @asset(io_manager_key="io")
        def loaded(stored: {annotation}) -> {annotation}:
            assert stored == {value} if not hasattr(stored, "equals") else stored.equals({value}), stored
            return stored


        # the package's concrete {cls} (a subclass of {_split(subclass)[1]}), configured as its users do
        result = materialize([stored, loaded], resources={{"io": Concrete(base_dir=tempfile.mkdtemp())}})
        assert result.success
        print("stored and loaded back through {cls}")
        """)


def _typing_code(package: str, module: str, subclass: str, member: str) -> str:
    return (f"# a typing witness: {package}'s own module `{module}`, type-checked against each side's dagster\n"
            f"# ({_split(subclass)[1]}.{member} is judged), its unpacked release on the checker's path:\n"
            f"#   mypy --python-executable PYTHON --follow-imports silent --ignore-missing-imports -m {module}\n")


def jobs_for(c: Cause, targets: dict[str, list[str]]) -> tuple[list[Job], str]:
    """The witness jobs of a cause, one per downstream class it breaks (its profile findings), or
    none and why. `targets`: per base, where it is on each side ("module:Class")."""
    out: list[Job] = []
    why = ""
    for f in sorted((f for f in c.findings if f.source == "profile" and f.severity == BREAKING),
                    key=lambda f: (f.details["package"], f.details["subclass"])):
        d = f.details
        sub, package = d["subclass"], d["package"]
        member = d["member_name"]
        if f.rule == SIGNATURE:
            out.append(Job(c.id, package, sub, _signature_program(sub, member, targets.get(d["base"], [d["base"]]))))
        elif f.rule == RETURNS:
            module = f.old_location.split(":")[0].removesuffix(".py").removesuffix("/__init__").replace("/", ".") \
                if f.old_location else None
            if module is None:
                why = "no module of the override's to type-check"
                continue
            out.append(Job(c.id, package, sub, _typing_code(package, module, sub, member), witness_mod.TYPING,
                           module, member))
        elif f.rule == CLASH and sub in CONSTRUCT and "__enter__" in (f.new or ""):
            out.append(Job(c.id, package, sub, _clash_instance_program(sub, member)))
        elif f.rule == CLASH and sub in ROUNDTRIP:
            out.append(Job(c.id, package, sub, _roundtrip_program(sub)))
        else:
            why = f"no witness of `{f.rule}` for {_split(sub)[1]} is written yet"
    return out, ("" if out else why or "no downstream class of it to exercise")


# ---- running, cached

def _outcome_path(key: str) -> Path:
    return envs.cache_dir() / "ecosystem" / "witness" / key[:2] / f"{key}.json"


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _runtime(python: str, package: str) -> list[Path]:
    reqs = RUNTIME.get(package)
    return [ecosystem_replay.runtime_dir(python, reqs)] if reqs else []


def _run_runtime(job: Job, side: Side, wheel: downstream.Wheel) -> tuple[bool | None, str]:
    name = wheel.package
    key = _key("runtime", job.code, side.content_digest(), wheel.sha256, *RUNTIME.get(name, ()))
    got = typecheck.read_outcome(_outcome_path(key))
    if got is None:
        python = side.python
        got = witness_mod.run_one(job.code, python, paths=[wheel.tree, *_runtime(python, name)])
        if got[0] is not None or not got[1].startswith("timed out"):
            typecheck.write_outcome(_outcome_path(key), got)
    return got


def _run_typing(jobs: list[tuple[Job, downstream.Wheel]], side: Side) -> list[tuple[bool | None, str]]:
    return typecheck.check_modules([(j.module or "", j.member or "", w.tree, w.sha256) for j, w in jobs], side.python)


def attach(causes: list[Cause], old: Side, new: Side, wheels: Callable[[str], downstream.Wheel],
           targets: dict[str, list[str]], progress: Callable[[str], None] = lambda _m: None) -> int:
    """Run a witness of every breaking cause that has none yet on both sides and let it decide:
    proven (at run time or under the type checker) stays breaking, anything else becomes a
    warning, unproven, with why. `wheels(package)`: the old release of a package, unpacked.
    How many causes were judged."""
    todo = [c for c in causes if c.severity == BREAKING and c.witness is None]
    if not todo:
        return 0
    planned = [(c, *jobs_for(c, targets)) for c in todo]
    n = sum(len(js) for _, js, _ in planned)
    progress(f"running {n} downstream witness(es) of {len(todo)} cause(s) on both sides")
    runtime = [(j, wheels(j.package.rsplit(" ", 1)[0])) for _, js, _ in planned for j in js if j.kind != witness_mod.TYPING]
    typed = [(j, wheels(j.package.rsplit(" ", 1)[0])) for _, js, _ in planned for j in js if j.kind == witness_mod.TYPING]
    outcomes: dict[int, tuple[tuple[bool | None, str], tuple[bool | None, str]]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        olds = list(pool.map(lambda jw: _run_runtime(jw[0], old, jw[1]), runtime))
        news = list(pool.map(lambda jw: _run_runtime(jw[0], new, jw[1]), runtime))
        if typed:
            t_old, t_new = pool.map(lambda side: _run_typing(typed, side), (old, new))
        else:
            t_old = t_new = []
    for (j, _), o, nw in [*zip(runtime, olds, news), *zip(typed, t_old, t_new)]:
        outcomes[id(j)] = (o, nw)
    for c, js, why in planned:
        ws = []
        for j in js:
            (o_ok, o), (n_ok, nw) = outcomes[id(j)]
            code = f"# witness of {c.id} for {j.package}: {j.subclass}\n" + j.code
            ws.append(witness_mod.Witness(c.id, code, o, nw, o_ok, n_ok, j.kind))
        # the first that proves the cause (runtime before typing), else the first that ran
        ws.sort(key=lambda w: (w.proves is None, w.kind != witness_mod.RUNTIME))
        w = ws[0] if ws else None
        witness_mod.judge(c, w, why)
    return len(todo)


def unproven_pairs(causes: list[Cause]) -> set[tuple[str, str]]:
    """(subclass, base) of every pair whose breaking findings all belong to causes that are no
    longer breaking: their verdict follows the causes'."""
    still: set[int] = set()
    held: dict[tuple[str, str], list[Finding]] = {}
    for c in causes:
        for f in c.findings:
            d = f.details or {}
            if f.severity != BREAKING or "subclass" not in d:
                continue
            held.setdefault((d["subclass"], d.get("base", "")), []).append(f)
            if c.severity == BREAKING:
                still.add(id(f))
    return {pair for pair, fs in held.items() if not any(id(f) in still for f in fs)}


__all__ = ["CONSTRUCT", "RUNTIME", "ROUNDTRIP", "Job", "attach", "jobs_for", "unproven_pairs"]

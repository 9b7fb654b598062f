"""Surface extraction: one toy class per feature, then the real DagsterInstance."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compat.model import jsonio
from compat.model.annotations import normalize
from compat.model.errors import CompatError
from compat.model.surface import Surface
from compat.static.extract import DEFAULT_TARGET, from_sources, read_surface, snapshot, write_surface

BASE = '''
import abc
from typing import Optional, Protocol

def public(fn):
    return fn

def deprecated(**kw):
    return lambda fn: fn

class Store(Protocol):
    def get_partitions(self, name: str) -> list[str]: ...

class Mixin:
    @property
    def _instance(self) -> "Thing":
        return check.inst(self, Thing)

    def moved(self, a: int, *, b: Optional[str] = None) -> "Optional[int]":
        return self._instance.hook(a)

class Domain:
    def __init__(self, instance):
        self._instance = instance

    def work(self):
        self._helper()

    def _helper(self):
        return self._instance.delegated_hook()

class Thing(Mixin, Store):
    LIMIT = 10
    _registry: dict = {}
    declared_only: int

    def __init__(self, storage, *args, flag: bool = False, **kwargs):
        self._storage = storage
        self._flag = flag
        self.__mangled = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.dispose()

    @public
    @property
    def storage(self):
        return self._storage

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        self._mode = value

    @classmethod
    def config_schema(cls) -> dict:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> dict:
        return {}

    @deprecated(breaking_version="2.0")
    def old_api(self, x, /, y=1):
        return self.hook(x)

    @abc.abstractmethod
    def must(self) -> None: ...

    def hook(self, a):
        return a

    def delegated_hook(self):
        return 1

    @property
    def _domain(self):
        return Domain(self)

    def via_domain(self):
        return self._domain.work()

    def dispose(self):
        self._disposed = True
        super().dispose()

    def __private(self):
        pass
'''


@pytest.fixture(scope="module")
def toy() -> Surface:
    return from_sources({"pkg/__init__.py": "", "pkg/mod.py": BASE}, "pkg.mod:Thing")


def test_kinds_and_visibility(toy: Surface):
    m = toy.members
    assert m["hook"].kind == "method" and m["hook"].visibility == "public"
    assert m["storage"].kind == "property" and m["storage"].public_api
    assert m["mode"].kind == "property" and m["mode"].setter and not m["storage"].setter
    assert m["config_schema"].kind == "classmethod"
    assert m["config_defaults"].kind == "staticmethod"
    assert m["LIMIT"].kind == "class_attribute" and m["LIMIT"].value == "10"
    assert m["_registry"].visibility == "protected" and m["_registry"].annotation == "dict"
    assert m["__init__"].visibility == "dunder" and "__enter__" in m and "__exit__" in m
    assert "declared_only" not in m  # a bare annotation creates nothing at runtime
    assert not any("__private" in name or "mangled" in name for name in m)


def test_signature_details(toy: Surface):
    sig = toy.members["__init__"].signature
    assert [(p.name, p.kind) for p in sig.parameters] == [
        ("self", "positional-or-keyword"),
        ("storage", "positional-or-keyword"),
        ("args", "var-positional"),
        ("flag", "keyword-only"),
        ("kwargs", "var-keyword"),
    ]
    assert sig.param("flag").default == "False" and sig.param("flag").annotation == "bool"
    old = toy.members["old_api"].signature
    assert old.param("x").kind == "positional-only" and old.param("y").default == "1"
    moved = toy.members["moved"].signature
    assert moved.returns == "Optional[int]" and moved.returns_norm == "None | int"
    assert moved.param("b").annotation_norm == "None | str"


def test_decorators(toy: Surface):
    assert toy.members["old_api"].deprecated == "deprecated(breaking_version='2.0')"
    assert toy.members["must"].abstract
    assert not toy.members["hook"].abstract and toy.members["hook"].deprecated is None


def test_mro_flattening_and_defining_class(toy: Surface):
    assert toy.cls.mro == ["pkg.mod.Thing", "pkg.mod.Mixin", "pkg.mod.Store", "typing.Protocol"]
    assert toy.members["moved"].defined_in == "pkg.mod.Mixin"
    assert toy.members["get_partitions"].defined_in == "pkg.mod.Store"
    line = BASE.splitlines().index("    def hook(self, a):") + 1
    assert toy.members["hook"].location == f"pkg/mod.py:{line}"
    assert toy.cls.metaclass == "typing._ProtocolMeta"
    assert toy.cls.bases == ["pkg.mod.Mixin", "pkg.mod.Store"]


def test_instance_attributes_wherever_assigned(toy: Surface):
    attrs = toy.instance_attributes
    assert attrs["_storage"].in_init and attrs["_storage"].assigned_in == ["Thing.__init__"]
    assert not attrs["_mode"].in_init and attrs["_mode"].assigned_in == ["Thing.mode"]
    assert attrs["_disposed"].assigned_in == ["Thing.dispose"]
    assert not any("mangled" in a for a in attrs)


def test_self_references_aliases_and_delegates(toy: Surface):
    assert toy.members["old_api"].self_calls == ["hook"]
    # the mixin reaches the instance through the self-alias property `_instance`
    assert "hook" in toy.members["moved"].self_calls
    # via_domain builds Domain(self) and Domain._helper calls the instance's hook
    via = toy.members["via_domain"]
    assert "delegated_hook" in via.self_calls
    assert via.delegates == ["pkg.mod.Domain.work"]
    assert toy.members["dispose"].super_calls == ["dispose"]
    assert toy.members["__exit__"].self_calls == ["dispose"]
    assert toy.members["storage"].self_refs == ["_storage"]


def test_import_paths(toy: Surface):
    paths = {p.path: p.resolves_to for p in toy.import_paths}
    assert paths["pkg.mod.Thing"] == "pkg.mod.Thing"
    assert paths["pkg.Thing"] is None


def test_reexport_resolves_to_definition():
    files = {
        "pkg/__init__.py": "from pkg.impl import Thing\n",
        "pkg/impl.py": "class Base:\n    def a(self): ...\n\nclass Thing(Base):\n    def b(self): ...\n",
    }
    s = from_sources(files, "pkg:Thing")
    assert s.cls.path == "pkg.impl.Thing"
    assert {p.path: p.resolves_to for p in s.import_paths}["pkg.Thing"] == "pkg.impl.Thing"
    assert [e.path for e in s.exports["pkg"]] == ["pkg.Thing"]
    assert set(s.members) == {"a", "b"}


@pytest.mark.parametrize(
    "a,b",
    [
        ("Optional[int]", "int | None"),
        ("Union[int, None]", "Optional[int]"),
        ("'Optional[Foo]'", "Foo | None"),
        ("typing.List[str]", "list[str]"),
        ("Sequence[str]", "collections.abc.Sequence[str]"),
        ("Mapping[str, Any]", "typing.Mapping[str, typing.Any]"),
        ("Union[str, int, None]", "None | int | str"),
        ("AbstractSet[AssetKey]", "typing.AbstractSet[dagster.AssetKey]"),
    ],
)
def test_annotation_spellings_normalize_alike(a, b):
    assert normalize(a) == normalize(b)


@pytest.mark.parametrize("a,b", [("int", "str"), ("Optional[int]", "int"), ("list[str]", "list[int]"), ("dict", "list")])
def test_annotation_differences_survive(a, b):
    assert normalize(a) != normalize(b)


@pytest.mark.parametrize(
    "target,message",
    [
        ("nomodule:Thing", "module nomodule not found"),
        ("pkg.mod:Nope", "has no attribute Nope"),
        ("pkg.mod:helper", "not a class"),
        ("pkg.mod.Thing", "expected module:Class"),
    ],
)
def test_bad_targets(target, message):
    with pytest.raises(CompatError, match=message):
        from_sources({"pkg/__init__.py": "", "pkg/mod.py": "def helper(): ...\nclass Thing: ...\n"}, target)


# --- the real DagsterInstance ------------------------------------------------------------------
@pytest.fixture(scope="module")
def installed() -> Surface:
    return snapshot(use_cache=False)


def test_installed_surface_matches_runtime_inspection(installed: Surface):
    """An independent runtime count: every public/protected/dunder name that dagster's own
    classes in the MRO define must be in the surface, and nothing the surface lists may be
    missing at runtime."""
    from dagster._core.instance import DagsterInstance

    runtime = set()
    for klass in DagsterInstance.__mro__:
        if not klass.__module__.startswith("dagster"):
            continue
        for name in vars(klass):
            if not (name.startswith("__") and not name.endswith("__")):
                runtime.add(name)
    # Python's own bookkeeping (Protocol/ABC machinery) and dagster's @public marker flag.
    bookkeeping = {
        "__abstractmethods__", "__annotations__", "__dict__", "__doc__", "__module__",
        "__non_callable_proto_members__", "__parameters__", "__protocol_attrs__",
        "__subclasshook__", "__weakref__", "_abc_impl", "_is_protocol", "_is_public",
        "_is_runtime_protocol", "__orig_bases__", "__firstlineno__", "__static_attributes__",
    }
    assert runtime - bookkeeping == set(installed.members)
    for name, member in installed.members.items():
        owner = next(k for k in DagsterInstance.__mro__ if name in vars(k))
        assert f"{owner.__module__}.{owner.__qualname__}" == member.defined_in, name


_RUNTIME_NAMES = """
import json
from dagster._core.instance import DagsterInstance
names = {}
for klass in DagsterInstance.__mro__:
    if klass.__module__.startswith("dagster"):
        for name in vars(klass):
            if not (name.startswith("__") and not name.endswith("__")):
                names.setdefault(name, f"{klass.__module__}.{klass.__qualname__}")
print(json.dumps(names))
"""


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.11.4", "1.11.5", "1.11.6"])
def test_wheel_surface_matches_runtime_inspection_in_that_version(version):
    """The surface read statically from a release's wheel lists exactly the names (and defining
    classes) that `vars()` over the MRO shows when that release is imported in its own env."""
    import subprocess

    from compat.envs import parse_spec, python_for, wheel_tree

    proc = subprocess.run([python_for(parse_spec(f"dagster=={version}")), "-c", _RUNTIME_NAMES],
                          capture_output=True, text=True, check=True)
    runtime = json.loads(proc.stdout.strip().splitlines()[-1])
    bookkeeping = {
        "__abstractmethods__", "__annotations__", "__dict__", "__doc__", "__module__",
        "__non_callable_proto_members__", "__parameters__", "__protocol_attrs__",
        "__subclasshook__", "__weakref__", "_abc_impl", "_is_protocol", "_is_public",
        "_is_runtime_protocol", "__orig_bases__", "__firstlineno__", "__static_attributes__",
    }
    surface = snapshot(DEFAULT_TARGET, [str(wheel_tree(version))], source=f"dagster=={version}", use_cache=False)
    assert set(runtime) - bookkeeping == set(surface.members)
    assert {n: runtime[n] for n in surface.members} == {n: m.defined_in for n, m in surface.members.items()}


def test_installed_surface_instance_attributes_exist_at_runtime(installed: Surface, tmp_path):
    from dagster._core.instance import DagsterInstance

    with DagsterInstance.local_temp(str(tmp_path)) as inst:
        assigned_in_init = {a for a, info in installed.instance_attributes.items() if info.in_init}
        assert assigned_in_init <= set(vars(inst))
        assert {"_run_storage", "_event_storage", "_settings", "_run_launcher"} <= assigned_in_init


def test_installed_surface_shape(installed: Surface):
    assert installed.cls.path == "dagster._core.instance.instance.DagsterInstance"
    assert installed.members["create_run"].defined_in.endswith("RunMethods")
    assert installed.members["telemetry_enabled"].kind == "property"
    paths = {p.path: p.resolves_to for p in installed.import_paths}
    assert paths["dagster.DagsterInstance"] == installed.cls.path
    assert paths["dagster._core.instance.DagsterInstance"] == installed.cls.path


def test_snapshot_is_byte_identical_and_round_trips(tmp_path, installed: Surface):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_surface(snapshot(use_cache=False), a)
    write_surface(snapshot(use_cache=True), b)
    assert a.read_bytes() == b.read_bytes()
    assert read_surface(a).to_dict() == installed.to_dict()
    assert json.loads(a.read_text())["schema_version"] == 1


def test_snapshot_identical_across_hash_seeds(tmp_path):
    outs = []
    for seed in ("0", "123"):
        out = tmp_path / f"s{seed}.json"
        subprocess.run(
            [sys.executable, "-m", "compat", "snapshot", "--no-cache", "-o", str(out)],
            check=True, capture_output=True, env={**_env(), "PYTHONHASHSEED": seed},
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}


@pytest.mark.parametrize("version,module,mro_len", [
    ("1.11.4", "dagster._core.instance", 3),
    ("1.11.5", "dagster._core.instance.instance", 4),
    ("1.11.6", "dagster._core.instance.instance", 11),
])
def test_released_versions(version, module, mro_len):
    from compat.envs import wheel_tree

    s = snapshot(search_paths=[str(wheel_tree(version))], source=f"dagster=={version}")
    assert s.generator["dagster"] == version
    assert s.cls.module == module and len(s.cls.mro) == mro_len
    assert {"create_run", "telemetry_enabled", "get_settings", "dispose", "_settings"} <= set(s.members) | set(s.instance_attributes)


def test_1_11_5_event_domain_drops_should_store_event_dispatch():
    """The static hook contract finds a real 1.11.5 regression: EventDomain.handle_new_event
    calls the domain's own should_store_event, so an instance override is ignored."""
    from compat.envs import wheel_tree

    def hooks(v):
        s = snapshot(search_paths=[str(wheel_tree(v))], source=f"dagster=={v}")
        return s.members["handle_new_event"].self_calls

    assert "should_store_event" in hooks("1.11.4")
    assert "should_store_event" not in hooks("1.11.5")
    assert "should_store_event" in hooks("1.11.6")


def test_corrupt_and_foreign_snapshots(tmp_path):
    bad = tmp_path / "bad.json"
    for text, msg in [("", "empty"), ('{"schema": "compat.surface", "sch', "corrupt or truncated"),
                      ('{"schema": "compat.surface", "schema_version": 99}', "version 99"),
                      ('{"schema": "compat.trace", "schema_version": 1}', "expected 'compat.surface'")]:
        bad.write_text(text)
        with pytest.raises(CompatError, match=msg):
            read_surface(bad)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "s.json"
    jsonio.write_json(target, {"schema": "x", "v": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        jsonio.write_json(target, {"bad": Boom()})
    assert json.loads(target.read_text()) == {"schema": "x", "v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]

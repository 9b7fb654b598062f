"""Subclass profiles and the checks of a profile against a new base surface.

Toy packages are written into tmp_path: a base package (two versions) and a package that
subclasses it. Each check rule has a change that makes it fire and a near miss that must not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from trees import write_tree

from compat.model.errors import CompatError
from compat.catalogue import all_rules
from compat.static.extract import snapshot
from compat.model.profile import CORPUS_PACKAGE, Profile, read_profile, write_profile
from compat.static.profile import profile_source
from compat.static.profile_checks import call_issues, check_profile, check_profile_change

ROOT = Path(__file__).resolve().parent.parent
TARGET = "base.core:Base"

BASE = '''
import functools


class Settings:
    @property
    def telemetry_enabled(self) -> bool:
        return self._settings.get("telemetry", True)


class Base(Settings):
    def __init__(self, storage, *, settings=None, ref=None, **_kwargs):
        self._storage = storage
        self._settings = settings or {}
        self._ref = ref
        self._launcher = None
        self._setup()

    def _setup(self):
        self._ready = True

    @property
    def launcher(self):
        if self._launcher is None:
            self._launcher = object()
        return self._launcher

    def launch(self, run):
        return self.launcher

    def daemon_types(self) -> list:
        return ["a"]

    def required(self):
        return self.daemon_types()

    def hook(self, a, b=1):
        return a

    def run_hook(self):
        return self.hook(1, b=2)

    def release(self):
        pass

    def dispose(self):
        self.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.dispose()

    @staticmethod
    def get() -> "Base":
        return Base(None)

    def get_ref(self):
        return self._ref
'''

SUB = '''
from base.core import Base


class Mid(Base):
    @property
    def telemetry_enabled(self) -> bool:
        return False

    @classmethod
    def config_schema(cls):
        return {"token": 1}

    def dispose(self):
        super().dispose()


class Leaf(Mid):
    LIMIT = 3

    def __init__(self, *args, token, extra=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._token = token
        self._cache = {}
        self.opened = False

    @property
    def launcher(self):
        return self._own_launcher

    def daemon_types(self):
        return []

    def hook(self, a, b=1):
        return super().hook(a, b=b)

    def dispose(self):
        super().dispose()
        self._cache.clear()

    @staticmethod
    def get():
        return Base.get()

    @staticmethod
    def config_defaults(base_dir):
        return {}

    def describe(self):
        return (self._settings, self._storage, self.get_ref(), self._token, self.telemetry_enabled)
'''


def _base(root: Path, source: str = BASE) -> str:
    return str(write_tree(root, {"base/__init__.py": "", "base/core.py": source}))


def _profile(tmp_path: Path, sub: str = SUB, base: str = BASE, name: str = "ext") -> Profile:
    base_dir = _base(tmp_path / f"base-old-{name}", base)
    pkg = write_tree(tmp_path / f"src-{name}", {f"{name}/__init__.py": "", f"{name}/sub.py": sub})
    return profile_source(str(pkg / name), target=TARGET, dagster_paths=[base_dir])


def _check(tmp_path: Path, new_base: str, sub: str = SUB, old_base: str = BASE, tag: str = "x", sources=True):
    prof = _profile(tmp_path, sub, old_base, name=f"ext{tag}")
    new_dir = _base(tmp_path / f"base-new-{tag}", new_base)
    surface = snapshot(TARGET, [new_dir], use_cache=False)
    return check_profile(prof, surface, search_paths=[new_dir] if sources else None)


def _rules(findings) -> set[tuple[str, str]]:
    return {(f.rule, f.member) for f in findings}


# --- profile features ------------------------------------------------------------------------
@pytest.fixture
def prof(tmp_path) -> Profile:
    return _profile(tmp_path)


def test_finds_direct_and_indirect_subclasses(prof: Profile):
    assert sorted(prof.subclasses) == ["ext.sub.Leaf", "ext.sub.Mid"]
    leaf = prof.subclasses["ext.sub.Leaf"]
    assert leaf.package_bases == ["ext.sub.Mid"]
    assert leaf.mro[:3] == ["ext.sub.Leaf", "ext.sub.Mid", "base.core.Base"]
    assert prof.target_path == "base.core.Base" and prof.package == "ext"
    assert leaf.location == "ext/sub.py:18"


def test_overrides_with_base_signatures_and_callers(prof: Profile):
    leaf = prof.subclasses["ext.sub.Leaf"]
    assert sorted(leaf.overrides) == ["__init__", "daemon_types", "dispose", "get", "hook", "launcher"]
    hook = leaf.overrides["hook"]
    assert hook.kind == "method" and hook.base_kind == "method"
    assert hook.base_signature.render("hook") == "hook(self, a, b=1)"
    assert hook.called_by == ["run_hook"] and hook.super_calls == ["hook"]
    assert leaf.overrides["launcher"].called_by == ["launch"]
    assert leaf.overrides["get"].kind == "staticmethod"
    mid = prof.subclasses["ext.sub.Mid"]
    tele = mid.overrides["telemetry_enabled"]
    assert tele.kind == "property" and tele.base_defined_in == "base.core.Settings"


def test_created_names(prof: Profile):
    leaf = prof.subclasses["ext.sub.Leaf"]
    assert sorted(leaf.new_members) == ["LIMIT", "describe"]
    assert leaf.new_members["LIMIT"].kind == "class_attribute" and leaf.new_members["LIMIT"].value == "3"
    assert sorted(leaf.new_attributes) == ["_cache", "_token", "opened"]
    assert leaf.new_attributes["_token"].assigned_in == ["__init__"]
    assert leaf.created_names() == {"LIMIT", "describe", "_cache", "_token", "opened"}
    # hooks dagster looks up on the class are not "new names"
    assert "config_defaults" not in leaf.new_members


def test_base_uses_split_into_members_and_attributes(prof: Profile):
    leaf = prof.subclasses["ext.sub.Leaf"]
    assert sorted(leaf.base_attributes) == ["_settings", "_storage"]
    assert leaf.base_attributes["_settings"].reads == ["describe"]
    assert leaf.base_attributes["_storage"].constructed
    assert leaf.base_members["get_ref"].calls == ["describe"]
    assert leaf.base_members["get"].by_class == ["get"]  # Base.get() by name
    # inherited from the package's own Mid: not a base use
    assert "telemetry_enabled" not in leaf.base_members
    assert leaf.unresolved_refs == ["_own_launcher"]


def test_super_calls_land_on_the_mro(prof: Profile):
    leaf = prof.subclasses["ext.sub.Leaf"]
    calls = {(s.method, s.name): (s.lands_on, s.in_package) for s in leaf.super_calls}
    assert calls[("dispose", "dispose")] == ("ext.sub.Mid", True)
    assert calls[("hook", "hook")] == ("base.core.Base", False)
    assert calls[("__init__", "__init__")] == ("base.core.Base", False)
    mid = prof.subclasses["ext.sub.Mid"]
    assert [(s.name, s.lands_on) for s in mid.super_calls] == [("dispose", "base.core.Base")]


def test_constructor_forwarding(prof: Profile):
    c = prof.subclasses["ext.sub.Leaf"].constructor
    assert c.defined and c.calls_super_init and c.forwards_args and c.forwards_kwargs
    assert c.keyword_only == ["token", "extra"] and c.required_keyword_only == ["token"]
    assert c.signature.render("__init__") == "__init__(self, *args, token, extra=None, **kwargs)"
    assert c.base_signature.render("__init__").startswith("__init__(self, storage, *, settings=None")
    mid = prof.subclasses["ext.sub.Mid"].constructor
    assert not mid.defined and mid.defined_in == "base.core.Base"


def test_class_hooks(prof: Profile):
    leaf = prof.subclasses["ext.sub.Leaf"]
    assert sorted(leaf.hooks) == ["config_defaults", "get"]
    assert leaf.hooks["config_defaults"].base_kind is None
    assert leaf.hooks["get"].base_kind == "staticmethod"
    assert sorted(prof.subclasses["ext.sub.Mid"].hooks) == ["config_schema"]


def test_summary_is_readable(prof: Profile):
    text = prof.summary()
    assert "2 subclass(es) of base.core:Base" in text
    assert "Leaf" in text and "forwards *args, **kwargs" in text and "dispose -> dispose on Mid" in text


def test_deterministic_and_round_trips(tmp_path):
    a = _profile(tmp_path / "a")
    b = _profile(tmp_path / "b")
    pa = write_profile(a, tmp_path / "a.json")
    pb = write_profile(b, tmp_path / "b.json")
    assert pa.read_bytes() == pb.read_bytes()
    again = read_profile(pa)
    assert again.to_dict() == a.to_dict()
    assert str(tmp_path) not in pa.read_text()  # no machine paths inside


def test_no_subclass_is_a_one_line_error(tmp_path):
    base_dir = _base(tmp_path / "base")
    pkg = write_tree(tmp_path / "src", {"plain/__init__.py": "class Thing:\n    pass\n"})
    with pytest.raises(CompatError) as exc:
        profile_source(str(pkg / "plain"), target=TARGET, dagster_paths=[base_dir])
    msg = str(exc.value)
    assert "\n" not in msg and "plain" in msg and TARGET in msg


def test_cli_no_subclass_exits_2(tmp_path, capsys):
    from compat.cli import main

    pkg = write_tree(tmp_path / "src", {"plain2/__init__.py": "class Thing:\n    pass\n"})
    assert main(["profile", str(pkg / "plain2")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no subclass" in err


def test_read_profile_rejects_other_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"schema": "compat.surface", "schema_version": 1}')
    with pytest.raises(CompatError):
        read_profile(path)


def test_unchanged_base_gives_no_findings(tmp_path):
    assert _check(tmp_path, BASE) == []


# --- the rules: each fires on a change and stays quiet on a near miss -------------------------
def test_every_rule_is_documented():
    rules = {r.id: r for r in all_rules("profile")}
    assert set(rules) == {
        "override-target-removed", "override-kind-mismatch", "override-signature-incompatible",
        "base-attribute-missing", "base-attribute-late", "subclass-name-clash", "super-target-missing",
        "constructor-forwarding-broken", "override-skips-base-setup", "override-reached-during-init",
        "override-bypassed", "override-return-incompatible",
    }
    for rule in rules.values():
        assert "Who breaks" in rule.explanation and rule.fix and rule.audience == "subclasses"


def test_override_target_removed(tmp_path):
    gone = BASE.replace(
        '    def daemon_types(self) -> list:\n        return ["a"]\n\n    def required(self):\n        return self.daemon_types()\n', "")
    findings = _check(tmp_path, gone, tag="a")
    assert _rules(findings) == {("override-target-removed", "Leaf.daemon_types")}
    assert findings[0].severity == "breaking" and findings[0].source == "profile"
    assert findings[0].audience == "subclasses"
    # near miss: moved into a mixin, still in the MRO
    moved = gone.replace("class Settings:\n", 'class Settings:\n    def daemon_types(self) -> list:\n        return ["a"]\n\n')
    assert _check(tmp_path, moved, tag="b") == []


def test_override_bypassed(tmp_path):
    private = BASE.replace("    def launch(self, run):\n        return self.launcher\n",
                           "    def launch(self, run):\n        return self._launcher\n")
    findings = _check(tmp_path, private, tag="a")
    assert _rules(findings) == {("override-bypassed", "Leaf.launcher")}
    assert findings[0].details["caller"] == "launch" and findings[0].severity == "breaking"
    # near miss: the base reaches it through a helper it calls on self
    helper = BASE.replace("    def launch(self, run):\n        return self.launcher\n",
                          "    def launch(self, run):\n        return self._do_launch(run)\n\n"
                          "    def _do_launch(self, run):\n        return self.launcher\n")
    assert _check(tmp_path, helper, tag="b") == []


def test_override_kind_mismatch(tmp_path):
    method = BASE.replace("    @property\n    def telemetry_enabled(self) -> bool:", "    def telemetry_enabled(self) -> bool:")
    assert _rules(_check(tmp_path, method, tag="a")) == {("override-kind-mismatch", "Mid.telemetry_enabled")}
    cached = BASE.replace("    @property\n    def telemetry_enabled(self) -> bool:",
                          "    @functools.cached_property\n    def telemetry_enabled(self) -> bool:")
    assert _check(tmp_path, cached, tag="b") == []


def test_override_signature_incompatible(tmp_path):
    new = BASE.replace("def hook(self, a, b=1):", "def hook(self, a, b=1, c=None):").replace(
        "self.hook(1, b=2)", "self.hook(1, b=2, c=3)")
    findings = _check(tmp_path, new, tag="a")
    assert _rules(findings) == {("override-signature-incompatible", "Leaf.hook")}
    f = findings[0]
    assert "`c`" in f.message and f.details["callers"] == ["run_hook"]
    # near miss: an override with *args, **kwargs accepts every new call
    tolerant = SUB.replace("def hook(self, a, b=1):\n        return super().hook(a, b=b)",
                           "def hook(self, a, b=1, *args, **kw):\n        return super().hook(a, b, *args, **kw)")
    assert _check(tmp_path, new, sub=tolerant, tag="b") == []
    # with **kwargs only, just a positional caller breaks: a warning
    by_kw = SUB.replace("def hook(self, a, b=1):\n        return super().hook(a, b=b)",
                        "def hook(self, a, b=1, **kw):\n        return super().hook(a, b=b, **kw)")
    assert [(f.rule, f.severity) for f in _check(tmp_path, new, sub=by_kw, tag="c")] == [
        ("override-signature-incompatible", "warning")]


def test_signature_incompatibility_that_predates_the_change_is_not_reported(tmp_path):
    # the override never accepted `b` by keyword; the new base changes nothing about that
    narrow = SUB.replace("def hook(self, a, b=1):\n        return super().hook(a, b=b)",
                         "def hook(self, a):\n        return super().hook(a)")
    assert _check(tmp_path, BASE.replace("return a\n", "return a + 0\n"), sub=narrow, tag="c") == []


def test_base_starts_calling_the_hook_with_a_new_argument(tmp_path):
    # the signature does not change; the base starts passing `b` to an override without it
    old = BASE.replace("self.hook(1, b=2)", "self.hook(1)")
    narrow = SUB.replace("def hook(self, a, b=1):\n        return super().hook(a, b=b)",
                         "def hook(self, a):\n        return super().hook(a)")
    findings = _check(tmp_path, BASE, sub=narrow, old_base=old, tag="a")
    assert _rules(findings) == {("override-signature-incompatible", "Leaf.hook")}
    assert findings[0].details["failing_calls"] == ["run_hook: self.hook(<1 positional>, b=...)"]
    assert "unexpected keyword `b`" in findings[0].message and findings[0].severity == "breaking"
    # without the new base's sources only signatures are compared: nothing to see
    assert _check(tmp_path, BASE, sub=narrow, old_base=old, tag="b", sources=False) == []
    # near miss: an override that takes `b`
    assert _check(tmp_path, BASE, old_base=old, tag="c") == []


def test_call_shapes_recorded(prof: Profile):
    hook = prof.subclasses["ext.sub.Leaf"].overrides["hook"]
    assert [c.render("hook") for c in hook.call_shapes] == ["run_hook: self.hook(<1 positional>, b=...)"]
    assert [c.caller for c in prof.subclasses["ext.sub.Leaf"].overrides["dispose"].call_shapes] == ["__exit__"]


def test_protocol_dunder_parameter_names_do_not_matter(tmp_path):
    sub = SUB + "\n    def __exit__(self, *exc_info):\n        super().__exit__(*exc_info)\n"
    renamed = BASE.replace("def __exit__(self, *exc):", "def __exit__(self, exc_type, exc_value, tb):")
    assert _check(tmp_path, renamed, sub=sub, tag="a") == []
    # near miss: a dunder the override cannot take positionally is still reported
    narrow = SUB + "\n    def __exit__(self):\n        super().__exit__()\n"
    assert _rules(_check(tmp_path, renamed, sub=narrow, tag="b")) == {("override-signature-incompatible", "Leaf.__exit__")}


def test_call_issues():
    from compat.model.surface import Parameter, Signature

    def sig(*params):
        return Signature([Parameter("self", "positional-or-keyword"), *params])

    a = Parameter("a", "positional-or-keyword")
    c = Parameter("c", "keyword-only", default="None")
    kw = Parameter("kw", "var-keyword")
    assert call_issues(sig(a), sig(a, c), bound=True) == ["does not accept the keyword `c`"]
    assert call_issues(sig(a, kw), sig(a, c), bound=True) == []
    assert call_issues(sig(Parameter("x", "positional-or-keyword")), sig(a), bound=True) == [
        "does not accept the keyword `a`", "positional argument 1 is `a` in the base but `x` in the override"]
    assert call_issues(sig(), sig(Parameter("b", "positional-or-keyword", default="1"), kw), bound=True) == [
        "does not accept optional `b` passed positionally (argument 1)",
        "does not accept the extra keyword arguments the base takes (**kwargs)",
        "does not accept the keyword `b`"]


def test_base_attribute_missing(tmp_path):
    renamed = BASE.replace("self._settings", "self._config")
    assert ("base-attribute-missing", "Leaf._settings") in _rules(_check(tmp_path, renamed, tag="a"))
    # near miss: the attribute became a property of the same name
    prop = renamed.replace("    def get_ref(self):", "    @property\n    def _settings(self):\n        return self._config\n\n    def get_ref(self):")
    assert _check(tmp_path, prop, tag="b") == []


def test_a_profile_counts_only_for_changes_between_the_two_sides(tmp_path):
    """A profile recorded on another release (a newer dagster-cloud beside a checkout of an older
    dagster) finds what the old side already lacks: that is no change between the sides."""
    prof = _profile(tmp_path, name="extc")
    renamed = BASE.replace("self._settings", "self._config")
    old = snapshot(TARGET, [_base(tmp_path / "old-renamed", renamed)], use_cache=False)
    same_dir = _base(tmp_path / "new-renamed", renamed)
    same = snapshot(TARGET, [same_dir], use_cache=False)
    assert ("base-attribute-missing", "Leaf._settings") in _rules(check_profile(prof, same))
    assert check_profile_change(prof, old, same, search_paths=[same_dir]) == []
    # the old side had what the profile uses and the new side lost it: that counts
    had = snapshot(TARGET, [_base(tmp_path / "old-had", BASE)], use_cache=False)
    changed = check_profile_change(prof, had, same, search_paths=[same_dir])
    assert ("base-attribute-missing", "Leaf._settings") in _rules(changed)
    assert _rules(changed) == _rules(check_profile(prof, same, search_paths=[same_dir]))


def test_base_attribute_late(tmp_path):
    late = BASE.replace("        self._storage = storage\n", "").replace(
        "    def release(self):", "    def connect(self, storage):\n        self._storage = storage\n\n    def release(self):")
    assert _rules(_check(tmp_path, late, tag="a")) == {("base-attribute-late", "Leaf._storage")}
    # near miss: assigned in a helper that __init__ calls
    helper = BASE.replace("        self._storage = storage\n", "        self._connect(storage)\n").replace(
        "    def release(self):", "    def _connect(self, storage):\n        self._storage = storage\n\n    def release(self):")
    assert _check(tmp_path, helper, tag="b") == []


def test_subclass_name_clash(tmp_path):
    clobber = BASE.replace("        self._launcher = None\n", "        self._launcher = None\n        self._cache = {}\n")
    findings = _check(tmp_path, clobber, tag="a")
    assert _rules(findings) == {("subclass-name-clash", "Leaf._cache")}
    assert findings[0].severity == "breaking"
    member = BASE.replace("    def release(self):", "    def describe(self):\n        return 'base'\n\n    def release(self):")
    findings = _check(tmp_path, member, tag="b")
    assert _rules(findings) == {("subclass-name-clash", "Leaf.describe")}
    # a real downstream package (ext) already has the name: breaking though no base code calls it yet
    assert findings[0].severity == "breaking"
    corpus = _profile(tmp_path, SUB, BASE, name="extcorpus")
    corpus.package = CORPUS_PACKAGE
    new_dir = _base(tmp_path / "base-new-corpus", member)
    findings = check_profile(corpus, snapshot(TARGET, [new_dir], use_cache=False), search_paths=[new_dir])
    assert [(f.member, f.severity) for f in findings] == [("Leaf.describe", "warning")]  # corpus-only: a warning
    # near miss: new base names the subclass does not use
    other = BASE.replace("        self._launcher = None\n", "        self._launcher = None\n        self._cache2 = {}\n").replace(
        "    def release(self):", "    def summarize(self):\n        return 'base'\n\n    def release(self):")
    assert _check(tmp_path, other, tag="c") == []


def test_shared_slot_written_after_construction(tmp_path):
    shared_sub = SUB.replace("        self.opened = False\n", "        self.opened = False\n        self._launcher = 'mine'\n")
    enter = BASE.replace("    def __enter__(self):\n        return self\n",
                         "    def __enter__(self):\n        self._launcher = None\n        return self\n")
    findings = _check(tmp_path, enter, sub=shared_sub, tag="a")
    assert [(f.rule, f.member, f.severity) for f in findings] == [("subclass-name-clash", "Leaf._launcher", "warning")]
    # near miss: the base assigns it lazily in its own property, as the old base already did
    assert _check(tmp_path, BASE.replace("return a\n", "return a + 0\n"), sub=shared_sub, tag="b") == []
    prof = _profile(tmp_path, shared_sub, name="shared")
    assert "shares a slot with the base: self._launcher" in prof.summary()


def test_override_skips_base_setup(tmp_path):
    enter = BASE.replace("    def __enter__(self):\n        return self\n",
                         "    def __enter__(self):\n        self._stack = []\n        return self\n").replace(
        "    def __exit__(self, *exc):\n        self.dispose()\n",
        "    def __exit__(self, *exc):\n        self.dispose()\n        self._stack.clear()\n")
    skipping = SUB + "\n    def __enter__(self):\n        return self\n"
    findings = _check(tmp_path, enter, sub=skipping, tag="a")
    assert _rules(findings) == {("override-skips-base-setup", "Leaf.__enter__")}
    assert findings[0].details["readers"] == ["__exit__"]
    # near miss: the override runs the base's set-up through super()
    chaining = SUB + "\n    def __enter__(self):\n        return super().__enter__()\n"
    assert _check(tmp_path, enter, sub=chaining, tag="b") == []


def test_override_reached_during_init(tmp_path):
    stateful = SUB.replace("def hook(self, a, b=1):\n        return super().hook(a, b=b)",
                           "def hook(self, a, b=1):\n        return self._token")
    calls_hook = BASE.replace("        self._setup()\n", "        self._setup()\n        self.run_hook()\n")
    findings = _check(tmp_path, calls_hook, sub=stateful, tag="a")
    assert _rules(findings) == {("override-reached-during-init", "Leaf.hook")}
    assert findings[0].details["own_state"] == ["_token"]
    prof = _profile(tmp_path, stateful, name="stateful")
    assert not prof.subclasses["stateful.sub.Leaf"].overrides["hook"].reached_from_init
    # near miss: __init__ now reaches an override that reads no subclass state
    calls_daemons = BASE.replace("        self._setup()\n", "        self._setup()\n        self.required()\n")
    assert _check(tmp_path, calls_daemons, sub=stateful, tag="b") == []


SUPER_SUB = '''
from base.core import Base


class Stopper(Base):
    def stop(self):
        super().release()
'''


def test_super_target_missing(tmp_path):
    gone = BASE.replace("    def release(self):\n        pass\n", "").replace("        self.release()\n", "        pass\n")
    assert _rules(_check(tmp_path, gone, sub=SUPER_SUB, tag="a")) == {("super-target-missing", "Stopper.stop")}
    moved = gone.replace("class Settings:\n", "class Settings:\n    def release(self):\n        pass\n\n")
    assert _check(tmp_path, moved, sub=SUPER_SUB, tag="b") == []


FIXED_SUB = '''
from base.core import Base


class Fixed(Base):
    def __init__(self, storage, settings=None, ref=None):
        super().__init__(storage, settings=settings, ref=ref)


class Swallow(Base):
    def __init__(self, *args, defs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._defs_seen = defs
'''


def test_constructor_forwarding_broken(tmp_path):
    new = BASE.replace("def __init__(self, storage, *, settings=None, ref=None, **_kwargs):",
                       "def __init__(self, storage, *, settings=None, defs=None, ref=None, **_kwargs):")
    findings = _check(tmp_path, new, sub=FIXED_SUB, tag="a")
    assert _rules(findings) == {("constructor-forwarding-broken", "Fixed.__init__"),
                                ("constructor-forwarding-broken", "Swallow.__init__")}
    assert all("`defs`" in f.message for f in findings)
    # near miss: a subclass forwarding **kwargs without a clashing name takes the new keyword along
    assert _check(tmp_path, new, tag="b") == []


def test_constructor_explicit_keyword_no_longer_accepted(tmp_path):
    new = BASE.replace("def __init__(self, storage, *, settings=None, ref=None, **_kwargs):",
                       "def __init__(self, storage, *, settings=None, **_kwargs):").replace(
        "self._ref = ref", "self._ref = None")
    strict = new.replace(", **_kwargs):", "):", 1)
    findings = _check(tmp_path, strict, sub=FIXED_SUB, tag="a")
    assert ("constructor-forwarding-broken", "Fixed.__init__") in _rules(findings)
    assert any("`ref=`" in f.message for f in findings)
    # near miss: the base still swallows unknown keywords
    assert not [f for f in _check(tmp_path, new, sub=FIXED_SUB, tag="b") if f.rule == "constructor-forwarding-broken"]


def test_config_keys_reaching_the_base(tmp_path, prof: Profile):
    assert prof.subclasses["ext.sub.Mid"].constructor.config_keys == ["token"]
    assert prof.subclasses["ext.sub.Mid"].constructor.forwarded_config_keys == ["token"]
    leaf = prof.subclasses["ext.sub.Leaf"].constructor
    assert leaf.config_keys == ["token"] and leaf.forwarded_config_keys == []  # consumed by its __init__
    strict = BASE.replace("def __init__(self, storage, *, settings=None, ref=None, **_kwargs):",
                          "def __init__(self, storage, *, settings=None, ref=None):")
    findings = _check(tmp_path, strict, tag="a")
    assert _rules(findings) == {("constructor-forwarding-broken", "Mid.__init__")}
    assert "`token`" in findings[0].message
    # near miss: the base still accepts unknown keywords (the unchanged base gives nothing)
    assert _check(tmp_path, BASE.replace("return a\n", "return a + 0\n"), tag="b") == []


# --- real dagster-cloud ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cloud_profile() -> Profile:
    from compat.envs import wheel_tree

    try:
        dagster = wheel_tree("1.13.27")
        return profile_source("dagster-cloud==1.13.27", target="dagster._core.instance:DagsterInstance",
                              dagster_paths=[str(dagster)])
    except CompatError as exc:  # pragma: no cover - offline machines
        pytest.skip(f"dagster-cloud wheel unavailable: {exc}")


def test_real_dagster_cloud(cloud_profile: Profile):
    subs = cloud_profile.subclasses
    assert sorted(subs) == ["dagster_cloud.instance.DagsterCloudAgentInstance", "dagster_cloud.instance.DagsterCloudInstance"]
    cloud = subs["dagster_cloud.instance.DagsterCloudInstance"]
    assert sorted(cloud.overrides) == [
        "defs_state_storage", "run_retries_max_retries", "run_retries_retry_on_asset_or_op_failure", "telemetry_enabled"]
    assert cloud.overrides["telemetry_enabled"].base_defined_in.endswith("SettingsMethods")
    agent = subs["dagster_cloud.instance.DagsterCloudAgentInstance"]
    assert agent.package_bases == ["dagster_cloud.instance.DagsterCloudInstance"]
    assert {"get_required_daemon_types", "run_launcher", "dispose", "get", "__init__",
            "should_start_background_run_thread", "defs_state_storage"} <= set(agent.overrides)
    assert agent.overrides["get_required_daemon_types"].base_defined_in.endswith("DaemonMethods")
    assert agent.base_attributes["_defs_state_storage"].reads == ["defs_state_storage"]
    assert sorted(agent.hooks) == ["config_defaults", "config_schema", "get"]
    c = agent.constructor
    assert c.forwards_args and c.forwards_kwargs and c.required_keyword_only == ["dagster_cloud_api"]
    assert ("dispose", "dispose") in {(s.method, s.name) for s in agent.super_calls}
    assert "user_code_launcher" in agent.new_members and "_dagster_cloud_api_config" in agent.new_attributes
    # the agent's own `_exit_stack` is also the base's (assigned in __enter__ since 1.13)
    assert agent.base_attributes["_exit_stack"].writes == ["__init__"]


def test_fetched_wheel_is_read_against_the_dagster_it_pins(cloud_profile: Profile):
    again = profile_source("dagster-cloud==1.13.27")  # its wheel pins dagster==1.13.27
    assert again.base_version == "1.13.27" and again.version == "1.13.27"
    assert again.to_dict() == cloud_profile.to_dict()


def test_the_shipped_profiles_are_what_recording_them_gives(tmp_path):
    """snapshots/profiles (dagster-cloud at two releases, the corpus, and each one's checks
    against the releases of the refactor) is generated: recording it again from the wheels and
    the corpus gives the shipped bytes, so a change of the profiler or of the report shows."""
    from compat.tools.profiles import record_shipped

    shipped = ROOT / "snapshots" / "profiles"
    written = record_shipped(tmp_path, corpus=str(ROOT / "compat" / "corpus"))
    assert written
    stale = [name for name in sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
             if (tmp_path / name).read_bytes() != (shipped / name).read_bytes()]
    assert not stale, f"regenerate snapshots/profiles (compat/tools/profiles.py says how): {stale}"

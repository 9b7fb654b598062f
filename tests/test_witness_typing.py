"""Typing witnesses and the witnesses of dispatch changes, on real dagster 1.11.4 and 1.11.6
(environments built by uv and cached) with the harness's own pinned mypy: a cause a type checker
proves is breaking with `breakage: typing`; a gained dispatch or a forwarding change is proven
only by an old override that fails where the new base calls it."""

from __future__ import annotations

import copy
import json

import pytest

from compat import sides
from compat.causes import Cause
from compat.model.findings import Finding
from compat.static.extract import DEFAULT_TARGET
from compat import typecheck, witness, witness_typing
from pairs import released_pair

OLD, NEW = "dagster==1.11.4", "dagster==1.11.6"


@pytest.fixture(scope="module")
def pair():
    o, _, causes, pythons = released_pair(OLD, NEW)
    return o, causes, pythons


@pytest.fixture(scope="module")
def typed(pair):
    """The witnesses of the annotation and signature causes, the typing ones in one batch."""
    old, causes, pythons = pair
    chosen = [causes[i] for i in ("annotations:return annotations", "annotations:parameter annotations",
                                  "member:stop_schedule", "member:can_read_failure_events_for_asset")]
    return dict(zip([c.id for c in chosen], witness.witnesses(chosen, old, DEFAULT_TARGET, pythons, jobs=2)))


@pytest.mark.slow
def test_a_narrowed_return_is_proven_under_the_type_checker(pair, typed):
    """1.11.6 narrowed the health-state methods' returns (no `None`): an override typed as the
    1.11.4 base declared them is accepted by mypy against 1.11.4 and rejected against 1.11.6."""
    _, causes, _ = pair
    c = copy.deepcopy(causes["annotations:return annotations"])  # the module's causes stay as built
    w, why = typed[c.id]
    assert w.kind == "typing" and w.proves == "typing" and why == ""
    assert "class OldOverride(Base)" in w.code and "Optional[" in w.code
    assert w.old == "mypy accepts it"
    assert w.new.startswith("mypy: line ") and "incompatible with return type" in w.new and w.new.endswith("[override]")
    witness.judge(c, w, why)
    data = c.to_dict()
    assert data["severity"] == "breaking" and data["breakage"] == data["witness"]["proves"] == "typing"
    assert data["unproven"] is None


@pytest.mark.slow
def test_a_widened_parameter_and_a_new_default_are_typing_breaks_only(typed):
    """`report_runless_asset_event` accepts more event types, `stop_schedule` gained a default:
    no run breaks, but an old typed override is an incompatible override."""
    for cid, needle in (("annotations:parameter annotations", "is incompatible with supertype"),
                        ("member:stop_schedule", 'Signature of "stop_schedule" incompatible')):
        w, _ = typed[cid]
        assert w.proves == "typing" and w.old == "mypy accepts it" and needle in w.new, (cid, w.new)


@pytest.mark.slow
def test_a_runtime_witness_comes_first(typed):
    w, _ = typed["member:can_read_failure_events_for_asset"]
    assert w.kind == "runtime" and w.proves == "runtime" and "TypeError" in w.new


@pytest.mark.slow
def test_the_typed_program_imports_each_old_annotation_where_the_old_module_got_it(pair):
    old, causes, pythons = pair
    code, why = witness.typing_program(causes["member:stop_schedule"], old, DEFAULT_TARGET,
                                       witness_typing._OldModules(pythons[0]))
    assert why == ""
    # RemoteSchedule is imported by 1.11.4's instance module under TYPE_CHECKING only
    assert "from dagster._core.remote_representation.external import RemoteSchedule" in code
    assert "remote_schedule: Optional[RemoteSchedule]" in code and "def call_stop_schedule(" in code


@pytest.mark.slow
def test_type_checker_outcomes_are_cached_by_content(pair, monkeypatch):
    """A second check of the same program against the same side runs no checker; a cached
    outcome that does not match the schema is checked again, never trusted."""
    _, _, pythons = pair
    code = "from dagster._core.instance import DagsterInstance as Base\n\nx: int = Base.get_ref\n"
    first = typecheck.check([code], pythons[0])
    assert first[0][0] is False and "[assignment]" in first[0][1]

    def no_checker(*args, **kwargs):
        raise AssertionError("the checker ran again")

    real_run = typecheck._run
    monkeypatch.setattr(typecheck, "_run", no_checker)
    assert typecheck.check([code], pythons[0]) == first
    # a damaged cache entry is rechecked
    cached = typecheck._outcome_path(typecheck.outcome_key(typecheck.side_digest(pythons[0]), code))
    assert json.loads(cached.read_text()) == {"ok": False, "line": first[0][1]}
    cached.write_text('{"ok": "yes"}')
    with pytest.raises(AssertionError, match="the checker ran again"):
        typecheck.check([code], pythons[0])
    monkeypatch.setattr(typecheck, "_run", real_run)
    assert typecheck.check([code], pythons[0]) == first


def _forwarding(positional: list[str]) -> Cause:
    cell = Finding(rule="behaviour-dispatch-changed", severity="breaking", audience="subclasses",
                   member="spy/assets_materializations/memory", message="report_dagster_event forwarded otherwise",
                   source="behaviour", details={"change": "arguments",
                                                "old_call": {"args": positional, "kwargs": {"run_id": "str"}},
                                                "new_call": {"args": ["DagsterEvent"], "kwargs": {"run_id": "str"}}})
    return Cause(id="dispatch-arguments:report_dagster_event", kind="dispatch-arguments",
                 subject="report_dagster_event", severity="warning", title="forwarded otherwise",
                 edited=["wipe_assets"], findings=[cell])


@pytest.mark.slow
def test_keyword_to_positional_forwarding_is_not_proven_by_an_old_override(pair):
    """1.11.6's wipe_assets passes `dagster_event` by position where 1.11.4 named it: an override
    with the old signature binds every call dagster makes, on both sides, so it stays a warning."""
    old, _, pythons = pair
    c = _forwarding([])
    w, why = witness.witness(c, old, DEFAULT_TARGET, pythons)
    assert "def report_dagster_event(self, dagster_event, run_id" in w.code
    assert w.old_ok and w.new_ok and w.proves is None
    witness.judge(c, w, why)
    assert c.severity == "warning" and c.unproven == "its witness passes on both sides"


@pytest.mark.slow
def test_an_override_naming_positional_arguments_its_own_way_must_bind_every_old_call(pair):
    """Where the old base passed an argument by position, an override may name it as it likes;
    on 1.11.4 other call sites already pass `dagster_event=` by keyword, so such an override
    fails on the old side too: nothing is proven."""
    old, _, pythons = pair
    w, _ = witness.witness(_forwarding(["DagsterEvent"]), old, DEFAULT_TARGET, pythons)
    assert "def report_dagster_event(self, arg_0, run_id" in w.code
    assert w.old_ok is False and "unexpected keyword argument 'dagster_event'" in w.old and w.proves is None


@pytest.mark.slow
def test_a_gained_dispatch_of_a_method_binds_the_old_override_to_every_new_call(pair):
    old, _, pythons = pair
    c = Cause(id="dispatch-gained:report_dagster_event", kind="dispatch-gained", subject="report_dagster_event",
              severity="warning", title="gained", edited=["wipe_assets"])
    w, why = witness.witness(c, old, DEFAULT_TARGET, pythons)
    assert why == "" and "call_sites('report_dagster_event')" in w.code
    assert w.old_ok and w.new_ok and w.proves is None  # the old signature binds 1.11.6's calls too


@pytest.mark.slow
def test_a_property_gained_outside_init_has_no_failing_override(pair):
    old, _, _ = pair
    c = Cause(id="dispatch-gained:run_storage", kind="dispatch-gained", subject="run_storage", severity="warning",
              title="gained", edited=["add_daemon_heartbeat"])
    code, why = witness.program(c, old, DEFAULT_TARGET)
    assert code is None and "read without arguments" in why
    witness.judge(c, None, why)
    assert c.severity == "warning" and c.unproven == why


@pytest.mark.parametrize("hook, reached", [("run_monitoring_enabled", True), ("get_settings", True),
                                           ("run_storage", False)])
@pytest.mark.slow
def test_an_init_hook_witness_fails_where_the_base_init_reaches_the_override(pair, hook, reached):
    """The witness of a dispatch `__init__` gained: a subclass setting its own state after
    `super().__init__()` whose override reads it. Run on 1.11.4 itself, it fails exactly for the
    members 1.11.4's `__init__` already reaches."""
    old, _, pythons = pair
    c = Cause(id=f"dispatch-gained:{hook}", kind="dispatch-gained", subject=hook, severity="warning",
              title="gained", edited=["__init__"])
    code, why = witness.program(c, old, DEFAULT_TARGET)
    assert why == "" and "super().__init__(*args, **kwargs)" in code
    ok, line = witness.run_one(code, pythons[0])
    if reached:
        assert ok is False and line == "AttributeError: 'OldSubclass' object has no attribute '_own_state'"
    else:
        assert ok is True and line == f"constructed without the base reaching {hook} first"


def test_a_baseline_names_the_release_its_witnesses_run_on():
    """`compat check --witness` and the gate's `--compat-witness` run the old side of each witness
    on the release the baseline was recorded from; a baseline of anything else is refused in one line."""
    import dataclasses

    from compat.baseline import Baseline
    from compat.model.errors import CompatError

    surface = Baseline("snapshots/baseline-1.11.4").surface
    side = sides.recorded_side(surface)
    assert side.text == "dagster==1.11.4" and side.spec.version == "1.11.4"
    dev = dataclasses.replace(surface, generator={**surface.generator, "dagster": "1!0+dev"})
    with pytest.raises(CompatError, match=r"recorded from dagster 1!0\+dev, not a release"):
        sides.recorded_side(dev)


def test_the_gate_takes_the_witness_option():
    from pathlib import Path

    from compat.gate.gate import Settings

    root = Path(__file__).resolve().parent.parent
    assert Settings.resolve({"witness": True}, root).witness is True
    assert Settings.resolve({}, root).witness is False


@pytest.mark.slow
def test_a_type_checker_that_cannot_be_installed_leaves_the_cause_unproven(pair, monkeypatch):
    """No package index to install mypy from: the typing witness shows nothing, the cause stays a
    warning that says why, and the run goes on."""
    from compat.model.errors import CompatError

    old, causes, pythons = pair

    def unreachable():
        raise CompatError("cannot build the type checker's environment (mypy==2.4.1): cannot reach the package index")

    monkeypatch.setattr(typecheck, "checker_python", unreachable)
    monkeypatch.setattr(typecheck, "read_outcome", lambda key: None)  # as on a machine that never checked
    c = copy.deepcopy(causes["annotations:return annotations"])  # the module's causes stay as built
    [(w, why)] = witness.witnesses([c], old, DEFAULT_TARGET, pythons)
    witness.judge(c, w, why)
    assert w.kind == "typing" and w.old_ok is None and "cannot reach the package index" in w.old
    assert c.severity == "warning" and c.unproven.startswith("its typing witness could not run on both sides")

"""Profile rules on what a subclass reads and names: base attributes gone or set too late for
it, and names of its own the new base now defines.
"""

from __future__ import annotations

from typing import Iterator

from compat.model.findings import BREAKING, WARNING
from compat.rules.base import Hit
from compat.static.profile import construction_methods
from compat.static.profile_context import profile_rule, _Ctx, _group, _short, _callers_text


@profile_rule(
    id="base-attribute-missing",
    cause="removed",
    severity=BREAKING,
    family="base-state",
    summary="A base member or instance attribute the subclass uses through self is gone.",
    severity_note="A warning when the subclass only writes it: the value is ignored, nothing raises.",
    fix="Keep assigning the attribute (even as an alias of its replacement) or keep the member.",
    old_base="""
        class Instance:
            def __init__(self, settings=None):
                self._settings = settings or {}
    """,
    new_base="""
        class Instance:
            def __init__(self, settings=None):
                self._config = settings or {}
    """,
    subclass="""
        from pkg.mod import Instance


        class Cloud(Instance):
            def telemetry(self):
                return self._settings.get("telemetry")
    """,
    near_miss=dict(
        new_base="""
            class Instance:
                def __init__(self, settings=None):
                    self._config = settings or {}

                @property
                def _settings(self):
                    return self._config
        """,
        about="the attribute became a property of the same name: the subclass's read still works",
    ),
)
def base_attribute_missing(ctx: _Ctx) -> Iterator[Hit]:
    """A public or protected base attribute (instance attribute such as `self._settings`, or a
    member such as `self.get_ref()`) that the subclass reads, calls or writes through `self` (or
    uses as `Base.name`) is no longer defined or assigned by the base.

    Who breaks: the subclass's method raises AttributeError when it reads it. When the subclass
    only writes it (to hand a value to the base), the write now goes nowhere: the base ignores
    the value (warning). When the subclass writes it and reads it back itself, nothing breaks
    and nothing is reported.
    """
    for kind_label, uses in (("member", ctx.sub.base_members), ("attribute", ctx.sub.base_attributes)):
        for name, use in uses.items():
            if name in ctx.new.members or name in ctx.new.instance_attributes:
                continue
            if name.startswith("__") and name.endswith("__"):
                continue
            if use.read:
                if use.writes:
                    continue  # its own state now
                yield ctx.hit(
                    name,
                    f"{ctx.sub.name} uses base {kind_label} `{name}` in {', '.join(use.used_in)}, "
                    f"which the new base no longer {'defines' if kind_label == 'member' else 'assigns'}: AttributeError",
                    old=f"{use.base_kind} {name} ({use.base_defined_in})", new=None, used_in=use.used_in,
                )
            else:
                yield ctx.hit(
                    name,
                    f"{ctx.sub.name} sets base {kind_label} `{name}` in {', '.join(use.writes)} for the base to use, "
                    f"but the base no longer has it: the value is ignored",
                    severity=WARNING, old=f"{use.base_kind} {name} ({use.base_defined_in})", new=None,
                    used_in=use.used_in,
                )


@profile_rule(
    id="base-attribute-late",
    severity=BREAKING,
    family="base-state",
    summary="A base instance attribute the subclass reads is no longer assigned while the base __init__ runs.",
    fix="Assign a default in `__init__` (None) and fill it lazily afterwards.",
    old_base="""
        class Instance:
            def __init__(self, run_storage=None):
                self._run_storage = run_storage
    """,
    new_base="""
        class Instance:
            def __init__(self, run_storage=None):
                self._run_storage_arg = run_storage

            def __enter__(self):
                self._run_storage = self._run_storage_arg
                return self
    """,
    subclass="""
        from pkg.mod import Instance


        class Cloud(Instance):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._runs = self._run_storage
    """,
    near_miss=dict(
        new_base="""
            class Instance:
                def __init__(self, run_storage=None):
                    self._setup(run_storage)

                def _setup(self, run_storage):
                    self._run_storage = run_storage
        """,
        about="the assignment moved into a helper that __init__ calls: still assigned during construction",
    ),
)
def base_attribute_late(ctx: _Ctx) -> Iterator[Hit]:
    """A base instance attribute the subclass reads used to be assigned during construction
    (in `__init__` or a method `__init__` calls through self) and is now assigned only later,
    in some other method (lazily, in `__enter__`, ...).

    Who breaks: the subclass reads the attribute in its own `__init__` after
    `super().__init__()`, or in an override the base calls before that other method ran:
    AttributeError, or a stale value.
    """
    for name, use in ctx.sub.base_attributes.items():
        if not use.read or not use.constructed:
            continue
        attr = ctx.new.instance_attributes.get(name)
        if attr is None or name in ctx.new.members or name in ctx.constructed:
            continue
        yield ctx.hit(
            name,
            f"{ctx.sub.name} reads base attribute `{name}` in {', '.join(use.used_in)}; the base assigned it "
            f"during __init__ but now only in {', '.join(attr.assigned_in)}",
            old=f"assigned in {use.base_defined_in}", new=f"assigned in {', '.join(attr.assigned_in)}",
            new_location=attr.location, used_in=use.used_in,
        )


@profile_rule(
    id="subclass-name-clash",
    cause="name-clash",
    severity=BREAKING,
    family="base-state",
    summary="The base now defines or assigns a name the subclass itself creates.",
    severity_note=(
        "A warning when the base's new member of that name is not called by base code yet (and has the "
        "same kind of use) and the subclass is one of the shipped corpus, not a real downstream package; "
        "and when the subclass chose to write the base's own attribute."
    ),
    fix=(
        "Pick another name in the base (a subclass cannot know what the base will add), or document the "
        "slot as shared."
    ),
    old_base="""
        class Instance:
            def __init__(self):
                self._settings = {}

            def __enter__(self):
                return self
    """,
    new_base="""
        import contextlib


        class Instance:
            def __init__(self):
                self._settings = {}

            def __enter__(self):
                self._exit_stack = contextlib.ExitStack()
                return self
    """,
    subclass="""
        import contextlib

        from pkg.mod import Instance


        class Cloud(Instance):
            def __init__(self):
                super().__init__()
                self._exit_stack = contextlib.ExitStack()

            def dispose(self):
                self._exit_stack.close()
    """,
    near_miss=dict(
        new_base="""
            import contextlib


            class Instance:
                def __init__(self):
                    self._settings = {}

                def __enter__(self):
                    self._instance_exit_stack = contextlib.ExitStack()
                    return self
        """,
        about="the base's new attribute has a name the subclass does not use",
    ),
)
def subclass_name_clash(ctx: _Ctx) -> Iterator[Hit]:
    """A name the subclass creates (a method, property, class attribute, or a `self.<x>`
    instance attribute) is now also a base member or a base instance attribute; or the subclass
    writes a base instance attribute that the base also assigns after construction.

    Who breaks:
    - base now assigns `self.<x>` that the subclass also uses: the base clobbers the subclass's
      state (or the subclass clobbers the base's), e.g. a base `__enter__` that starts writing
      `self._exit_stack`, which the subclass created in its `__init__` and closes in `dispose`;
      a base assignment to a name the subclass made a read-only property raises AttributeError;
    - base now defines a member with the subclass's name: the subclass silently overrides it.
      Breaking when base code reaches it through self (the base now runs the subclass's code
      with the base's expectations), or when the subclass is a real downstream one (its name is
      certainly taken); a warning for a corpus subclass when nothing in the base calls it yet
      (callers of the new API get the subclass's behaviour).
    - the subclass writes a base attribute and the base now also assigns it in a method that
      runs after construction (one it did not assign it in before): the two share one slot and
      the later write wins (a warning: the subclass chose to write the base's attribute).
    """
    yield from _clashes_with_new_members(ctx)
    yield from _clashes_with_new_attributes(ctx)
    yield from _base_attributes_written_later(ctx)


def _clashes_with_new_members(ctx: _Ctx) -> Iterator[Hit]:
    """The subclass's own members whose names the base now defines or assigns."""
    sub = ctx.sub
    for name, m in sub.new_members.items():
        new = ctx.new.members.get(name)
        attr = ctx.new.instance_attributes.get(name)
        if new is not None:
            callers = ctx.callers(name)
            # a real downstream subclass already using the name is a certain clash, called or not
            severity = BREAKING if callers or ctx.profile.downstream or _group(new.kind) != _group(m.kind) else WARNING
            yield ctx.hit(
                name,
                f"the base now defines {_short(new.kind)} `{name}`{_callers_text(callers)}; {sub.name} already "
                f"has its own {_short(m.kind)} of that name, which silently overrides it",
                severity=severity, old=m.render(), new=new.render(), old_location=m.location, new_location=new.location,
            )
        elif attr is not None:
            yield ctx.hit(
                name,
                f"the base now assigns `self.{name}` in {', '.join(attr.assigned_in)}; {sub.name} defines "
                f"{_short(m.kind)} `{name}`, which the assignment replaces or trips over",
                old=m.render(), new=f"self.{name} = ...", old_location=m.location, new_location=attr.location,
            )


def _clashes_with_new_attributes(ctx: _Ctx) -> Iterator[Hit]:
    """The attributes the subclass assigns for its own state whose names the base now assigns or
    defines."""
    sub = ctx.sub
    for name, a in sub.new_attributes.items():
        new = ctx.new.members.get(name)
        attr = ctx.new.instance_attributes.get(name)
        if attr is not None:
            construction = construction_methods(ctx.new)
            later = [x for x in attr.assigned_in if x.rsplit(".", 1)[-1] not in construction]
            if later:
                who = (f"the base's write in {', '.join(later)} replaces the subclass's object after construction "
                       f"(whatever the subclass kept in it is lost)")
            else:
                who = "the subclass's write replaces the base's object, so base code now works on the subclass's"
            yield ctx.hit(
                name,
                f"the base now assigns `self.{name}` in {', '.join(attr.assigned_in)}; {sub.name} assigns it "
                f"in {', '.join(a.assigned_in)} for its own state: {who}",
                old=f"self.{name} ({sub.name})", new=f"self.{name} ({', '.join(attr.assigned_in)})",
                old_location=a.location, new_location=attr.location,
            )
        elif new is not None:
            yield ctx.hit(
                name,
                f"the base now defines {_short(new.kind)} `{name}`; {sub.name} assigns `self.{name}` in "
                f"{', '.join(a.assigned_in)}, which shadows it (or fails for a property without setter)",
                old=f"self.{name} ({sub.name})", new=new.render(), old_location=a.location, new_location=new.location,
            )


def _base_attributes_written_later(ctx: _Ctx) -> Iterator[Hit]:
    """The base attributes the subclass writes that the base now also assigns after construction,
    in a method it did not assign them in before."""
    sub = ctx.sub
    for name, use in sub.base_attributes.items():
        if not use.writes:
            continue
        attr = ctx.new.instance_attributes.get(name)
        if attr is None:
            continue
        construction = construction_methods(ctx.new)
        before = {x.rsplit(".", 1)[-1] for x in use.base_assigned_in}
        late = sorted(x for x in attr.assigned_in
                      if x.rsplit(".", 1)[-1] not in construction and x.rsplit(".", 1)[-1] not in before)
        if not late:
            continue
        yield ctx.hit(
            name,
            f"{sub.name} assigns base attribute `self.{name}` in {', '.join(use.writes)}, and the base assigns it "
            f"again in {', '.join(late)} after construction: the two share one slot and the later write wins",
            severity=WARNING, old=f"self.{name} ({sub.name}: {', '.join(use.writes)})",
            new=f"self.{name} ({', '.join(late)})", new_location=attr.location,
        )

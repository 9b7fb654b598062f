"""Instance attributes (``self.<name> = ...``) and class attribute values."""

from __future__ import annotations

from compat.model.findings import BREAKING, BOTH, INFO, SUBCLASSES, WARNING
from compat.model.surface import CLASS_ATTRIBUTE, PUBLIC, InstanceAttribute
from compat.rules.base import DiffContext, Hit, kind_label, norm_expr, rule

_VARIES = "subclasses for protected attributes; callers+subclasses for public ones"


def _audience(attr: InstanceAttribute) -> str:
    return BOTH if attr.visibility == PUBLIC else SUBCLASSES


def _attr_hit(ctx, name, message, old: InstanceAttribute | None, new: InstanceAttribute | None, **details):
    def text(a):
        if a is None:
            return None
        where = ", ".join(a.assigned_in) or "nowhere"
        return f"self.{a.name}" + (f": {a.annotation}" if a.annotation else "") + f"  # assigned in {where}"

    return Hit(
        member=f"self.{name}",
        message=message,
        old=text(old),
        new=text(new),
        old_location=old.location if old else None,
        new_location=new.location if new else None,
        audience=_audience(old or new),
        details=details,
    )


@rule(
    id="instance-attribute-removed",
    severity=BREAKING,
    audience=SUBCLASSES,
    audience_note=_VARIES,
    family="attributes",
    summary="An instance attribute the class used to assign (`self._x = ...`) is never assigned any more.",
    explanation=(
        "Code reading `self._x` (typically a subclass override) gets AttributeError; code "
        "writing it keeps working but the base ignores the value."
    ),
    why_subclasses=(
        "Overrides read protected base state directly (`self._defs_state_storage`, "
        "`self._settings`); the base must keep the name."
    ),
    fix="Keep assigning the attribute in the base, even as an alias of its replacement.",
    example_old="""
        class Instance:
            def __init__(self, settings):
                self._settings = settings
    """,
    example_new="""
        class Instance:
            def __init__(self, settings):
                self._config = settings
    """,
    near_old="""
        class Instance:
            def __init__(self):
                self._s = 1
    """,
    near_new="""
        class Instance:
            def __init__(self):
                self._t = 1
            @property
            def _s(self):
                return self._t
    """,
    near_about="the attribute became a property of the same name, so reads still work (instance-attribute-became-member reports it)",
)
def instance_attribute_removed(ctx: DiffContext):
    for name in sorted(set(ctx.old.instance_attributes) - set(ctx.new.instance_attributes)):
        if name in ctx.new.members:
            continue  # instance-attribute-became-member
        old = ctx.old.instance_attributes[name]
        yield _attr_hit(ctx, name, f"self.{name} is no longer assigned anywhere in the class", old, None)


@rule(
    id="instance-attribute-became-member",
    severity=WARNING,
    audience=SUBCLASSES,
    audience_note=_VARIES,
    family="attributes",
    summary="An instance attribute is no longer assigned, but a member (property, method, class attribute) of that name now exists.",
    explanation=(
        "Reads keep working if the member is a property or class attribute with an equivalent "
        "value; assignments from a subclass now fail on a property without a setter, or shadow "
        "the member."
    ),
    why_subclasses="Subclasses that set protected base state before or after `super().__init__()` hit the new descriptor.",
    fix="Give the new property a setter (or keep a plain attribute) so subclass assignments keep working.",
    example_old="""
        class Instance:
            def __init__(self, storage):
                self._run_storage = storage
    """,
    example_new="""
        class Instance:
            def __init__(self, storage):
                self._storage = storage

            @property
            def _run_storage(self):
                return self._storage
    """,
    near_old="""
        class Instance:
            def __init__(self):
                self._s = 1
    """,
    near_new="""
        class Instance:
            def __init__(self):
                self._s = 2
    """,
    near_about="the attribute is still assigned; only its value changed",
)
def instance_attribute_became_member(ctx: DiffContext):
    for name in sorted(set(ctx.old.instance_attributes) - set(ctx.new.instance_attributes)):
        member = ctx.new.members.get(name)
        if member is None:
            continue
        old = ctx.old.instance_attributes[name]
        hit = _attr_hit(
            ctx,
            name,
            f"self.{name} is no longer assigned; it is now a {kind_label(member.kind)}"
            + (" without a setter" if member.kind == "property" and not member.setter else ""),
            old,
            None,
        )
        hit.new = member.render()
        hit.new_location = member.location
        yield hit


@rule(
    id="instance-attribute-not-set-in-init",
    severity=WARNING,
    audience=SUBCLASSES,
    audience_note=_VARIES,
    family="attributes",
    summary=(
        "An instance attribute that `__init__` used to assign (directly or through a method it "
        "calls via self) is now only assigned later."
    ),
    explanation=(
        "An override that runs during or right after construction and reads the attribute gets "
        "AttributeError until the lazy assignment has happened."
    ),
    why_subclasses=(
        "Base `__init__` can call overridable members before construction ends; overrides "
        "reading protected state rely on it being assigned before any of them can run."
    ),
    fix="Assign the attribute in __init__ (None is fine) and fill it lazily later.",
    example_old="""
        class Instance:
            def __init__(self, storage):
                self._storage = storage
    """,
    example_new="""
        class Instance:
            def __init__(self, storage):
                self._pending = storage

            def connect(self):
                self._storage = self._pending
    """,
    near_old="""
        class Instance:
            def __init__(self, s):
                self._s = s
    """,
    near_new="""
        class Instance:
            def __init__(self, s):
                self._setup(s)
            def _setup(self, s):
                self._s = s
    """,
    near_about="`__init__` still assigns it, through a helper it calls via self",
)
def instance_attribute_not_set_in_init(ctx: DiffContext):
    old_init = ctx.assigned_at_init(ctx.old)
    new_init = ctx.assigned_at_init(ctx.new)
    for name in sorted(set(ctx.old.instance_attributes) & set(ctx.new.instance_attributes)):
        if name in old_init and name not in new_init:
            old, new = ctx.old.instance_attributes[name], ctx.new.instance_attributes[name]
            yield _attr_hit(ctx, name, f"self.{name} is no longer assigned during __init__", old, new)


@rule(
    id="instance-attribute-added",
    cause="added",
    severity=INFO,
    audience=SUBCLASSES,
    family="attributes",
    summary="The class assigns a new instance attribute.",
    explanation=(
        "Harmless for callers. A subclass that already uses `self.<name>` for its own state now "
        "shares it with the base: whichever assigns last wins."
    ),
    why_subclasses="Subclass-created private attributes must never start being assigned by the base; check the name against known subclasses.",
    fix="Pick a name subclasses are unlikely to use (a prefixed private name).",
    example_old="""
        class Instance:
            def __init__(self):
                self._settings = {}
    """,
    example_new="""
        class Instance:
            def __init__(self):
                self._settings = {}
                self._agent_queues = []
    """,
    near_old="""
        class Instance:
            def __init__(self):
                self._s = 1
    """,
    near_new="""
        class Instance:
            def __init__(self):
                self._setup()
            def _setup(self):
                self._s = 1
    """,
    near_about="the assignment moved into a helper; the attribute is not new",
)
def instance_attribute_added(ctx: DiffContext):
    for name in sorted(set(ctx.new.instance_attributes) - set(ctx.old.instance_attributes)):
        if name in ctx.old.members:
            continue  # a former member now assigned per instance; the member rules report it
        new = ctx.new.instance_attributes[name]
        hit = _attr_hit(ctx, name, f"self.{name} is newly assigned by the base", None, new)
        hit.audience = None
        yield hit


@rule(
    id="class-attribute-value-changed",
    cause="member",
    severity=BREAKING,
    audience=BOTH,
    family="attributes",
    summary="The value of a class attribute changed (spelling-only changes such as quotes are ignored).",
    explanation="Code reading the class attribute, and base code using it as a default, sees a different value.",
    why_subclasses="Subclasses that rely on the inherited value (without overriding it) silently change behaviour.",
    fix="Keep the old value, or announce the change for code that reads it.",
    example_old="""
        class Instance:
            MAX_RETRIES = 3
    """,
    example_new="""
        class Instance:
            MAX_RETRIES = 5
    """,
    near_old="""
        class Instance:
            NAME = 'x'
    """,
    near_new="""
        class Instance:
            NAME = "x"
    """,
    near_about="quote style is spelling, not another value",
)
def class_attribute_value_changed(ctx: DiffContext):
    for name, old, new in ctx.common:
        if old.kind != CLASS_ATTRIBUTE or new.kind != CLASS_ATTRIBUTE:
            continue
        if old.value is not None and new.value is not None and norm_expr(old.value) != norm_expr(new.value):
            yield ctx.hit(name, f"class attribute {name!r} changed from {old.value} to {new.value}", old=old, new=new)

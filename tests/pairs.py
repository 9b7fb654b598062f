"""Two released dagsters, their surfaces and causes: what the witness tests put to both sides."""

from __future__ import annotations

from compat import sides
from compat.causes import build_causes
from compat.static.diff import compare_surfaces
from compat.static.extract import DEFAULT_TARGET, side_surface

OLD, NEW = "dagster==1.11.4", "dagster==1.11.6"


def released_pair(old: str = OLD, new: str = NEW):
    """(old surface, new surface, causes by id, (old python, new python)); the environments are
    built by uv and cached. Each call builds its own causes: tests judge (and so change) them."""
    o_side, n_side = sides.resolve(old), sides.resolve(new)
    o, n = side_surface(o_side, DEFAULT_TARGET), side_surface(n_side, DEFAULT_TARGET)
    causes = {c.id: c for c in build_causes(compare_surfaces(o, n), o, n)}
    return o, n, causes, (o_side.python, n_side.python)

"""The cells of the behaviour replay: which (subclass, scenario, storage) triples run, and their labels.

A cell is one subclass driven through one scenario on one storage. Which cells a recording
holds is decided here, apart from how they run (:mod:`compat.behaviour.replay`) and how two
traces of a cell are compared (:mod:`compat.behaviour.compare`): the command line, the baseline's
validation and the coverage report choose cells without running any.
"""

from __future__ import annotations

from typing import Iterable

from compat import corpus
from compat.behaviour.scenarios import SCENARIOS, names
from compat.model.errors import CompatError


def cell_label(cell: dict[str, str]) -> str:
    return f"{cell['subclass']}/{cell['scenario']}/{cell['storage']}"


def _corpus_names() -> list[str]:
    try:
        return sorted(corpus.CORPUS)
    except (ImportError, AttributeError):
        return ["base"]


def default_subclasses() -> list[str]:
    """Every corpus subclass, a spy on the plain class, and a spy on top of each corpus class."""
    names = _corpus_names()
    return list(names) + ["spy"] + [f"spy:{n}" for n in names if n != "base"]


# Named cell sets. "full" is every subclass on every scenario and storage (about 2,200 cells,
# minutes). "gate" keeps what a pre-merge gate needs in well under a minute: a spy on top of
# each corpus class runs that class's overrides through super() and also records every
# dispatch, so the plain corpus cells add nothing it would miss; those run on in-memory
# storage, and the plain spy alone covers every scenario on sqlite as well, with the spy on the
# custom-storages class (in memory there is no schedule storage for it to see called). "spy" is that plain
# spy alone (every dispatch of the base to an overridable member, results and state, on every
# scenario and storage, but no corpus override runs): a tenth of the gate's cells, for long
# release histories.
CELL_SETS = ("gate", "full", "spy")
_EVERY_STORAGE = ("spy", "spy:forwarding-storages")
DEFAULT_CELL_SET = "gate"


def plan_cells(subclasses: Iterable[str] | None = None, scenarios: Iterable[str] | None = None,
               storages: Iterable[str] | None = None, cell_set: str = DEFAULT_CELL_SET) -> list[dict[str, str]]:
    """The cells to run; explicit ``subclasses``/``storages`` override the cell set's choice."""

    if cell_set not in CELL_SETS:
        raise CompatError(f"unknown cell set {cell_set!r}; known: {', '.join(CELL_SETS)}")
    try:
        chosen = names(list(scenarios) if scenarios else None)
    except KeyError as exc:
        raise CompatError(str(exc.args[0])) from None
    if subclasses:
        subs = list(subclasses)
    elif cell_set == "full":
        subs = default_subclasses()
    elif cell_set == "spy":
        subs = ["spy"]
    else:
        subs = ["spy"] + [f"spy:{n}" for n in _corpus_names() if n != "base"]
    wanted = set(storages) if storages else None
    gate_set = not subclasses and cell_set == "gate"

    def keep(sub: str, storage: str) -> bool:
        if wanted is not None:
            return storage in wanted
        # the gate: corpus spies in memory, but every storage for those whose storage calls are noted
        return not gate_set or sub in _EVERY_STORAGE or storage == "memory"

    return [{"subclass": sub, "scenario": name, "storage": storage}
            for sub in subs for name in chosen for storage in SCENARIOS[name].storages if keep(sub, storage)]

"""What a change-aware replay chose, as every report and progress line states it.

The selection itself is made in :mod:`compat.behaviour.reach`; a report only has its summary
(``Selection.as_dict()``, carried by a check's result), so the one line that says how much was
replayed and why is written here, below both, and the report does not import the behaviour layer.
"""

from __future__ import annotations

from typing import Any


def replay_line(data: dict[str, Any]) -> str:
    """One line for every report (from :meth:`compat.behaviour.selection.Selection.as_dict`): how much
    was replayed, and why the rest was not."""
    return (f"replayed {data['cells_replayed']}/{data['cells_total']} behaviour cells and "
            f"{data['programs_replayed']}/{data['programs_total']} stored programs: {data['reason']}")

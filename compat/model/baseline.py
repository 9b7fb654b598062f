"""Baselines as data: the surface, profiles and traces recorded from the old class, in one directory.

Layout (all canonical JSON, reviewable in git)::

    manifest.json      what was recorded, from which dagster, with which harness
    surface.json       the target's surface
    profiles/*.json    profiles of the subclasses the gate protects
    traces/*.json      one behaviour trace per (subclass, scenario, storage) cell
    fuzz/programs.json generated programs with the old side's results
    reach.json         what each cell and program executed of dagster, for change-aware replay
    accepted.json      reviewed, intended findings (optional; kept across re-recording)

A baseline is recorded into a temporary sibling directory and swapped in with renames, so an
interrupted recording leaves the previous baseline loadable. Only a directory that already is a
baseline (it holds a valid manifest), an empty one or none at all is ever replaced: a mistyped
`--out` must not empty a folder of someone's files.

A baseline is data a pull request can change, so it is read as a stranger's file: it holds no
symbolic links (none is followed, none copied into a re-recording) and every path it names stays
inside it. Its manifest keeps a digest of every other file (accepted.json aside: a reviewed list
edited by hand on purpose), so a hand edit since the recording is named in every report.

This module is the format only: its schema, where the harness keeps what it copies in, the
refusal of links and a side's label. Reading a baseline back (compat/baseline.py) takes the
producers' readers of its parts; recording one (compat/record.py) is a step of the pipeline.
"""

from __future__ import annotations

import os
from pathlib import Path

from compat.model.errors import CompatError

SCHEMA = "compat.baseline"

VERSION = 1

READ_VERSIONS = (1,)

PROJECT_ROOT = Path(__file__).resolve().parents[2]

CORPUS_DIR = PROJECT_ROOT / "compat" / "corpus"

# Profiles of real subclass packages shipped with the harness, copied into new baselines.
SHIPPED_PROFILES = PROJECT_ROOT / "snapshots" / "profiles"


def refuse_links(root: Path) -> None:
    """No symbolic link anywhere in a baseline: a link is how a pull request points the harness
    at a file outside it (a secret, a device, another cell's trace)."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root, onerror=walk_error):
        dirs.sort()
        for name in sorted(dirs + files):
            entry = Path(folder) / name
            if os.path.islink(entry):
                raise CompatError(f"{entry}: is a symbolic link; a baseline holds no links, re-record it")

def walk_error(exc: OSError) -> None:
    raise CompatError(f"{exc.filename}: cannot read it: {exc.strerror or exc}")

def surface_label(surface) -> str:
    """A side named by what it is: `dagster 1.13.29` (a checkout says `dagster 1!0+dev`)."""
    return f"dagster {surface.generator.get('dagster', '?')}"

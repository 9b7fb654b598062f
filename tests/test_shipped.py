"""The shipped baselines are what this harness records today.

A baseline recorded by an older extractor (before a new surface field, a changed annotation
normal form, or a newly followed delegation) compares today's facts about the new dagster with
yesterday's facts about the old one: findings that are artefacts of the harness, not of dagster.
Each shipped baseline's surface and corpus profile, re-extracted from the dagster it names,
must equal the recorded ones.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from compat import envs, sides
from compat.baseline import Baseline
from compat.model.baseline import CORPUS_DIR
from compat.model.profile import read_profile
from compat.static.profile import profile_source
from compat.static.extract import side_surface

ROOT = Path(__file__).resolve().parent.parent


def _without_source(data: dict) -> dict:
    data = dict(data)
    data["generator"] = {k: v for k, v in data.get("generator", {}).items() if k != "source"}
    return data


@pytest.mark.slow
@pytest.mark.parametrize("name", ["baseline", "baseline-1.11.4"])
def test_a_shipped_baseline_is_what_this_harness_records(name):
    base = Baseline(ROOT / "snapshots" / name)
    version = base.manifest["generator"]["dagster"]
    # recorded like `make baseline-old`: from the interpreter of an env of that release
    spec = "installed" if metadata.version("dagster") == version else envs.python_for(envs.parse_spec(version))
    side = sides.resolve(spec, base.target)
    fresh = side_surface(side, base.target, use_cache=False)
    assert _without_source(fresh.to_dict()) == _without_source(base.surface.to_dict()), (
        f"snapshots/{name} was recorded by another extractor: re-record it (make baseline / make baseline-old)")
    corpus = profile_source(str(CORPUS_DIR), target=base.target, python=None if side.installed else side.python)
    recorded = read_profile(base.path / "profiles" / "corpus.json")
    assert corpus.to_dict() == recorded.to_dict(), f"snapshots/{name}/profiles/corpus.json is stale: re-record it"

"""The harness's own tests never see the user's home or DAGSTER_HOME, nor write into the repo.

Newer dagster writes a telemetry id under ~/.dagster whatever DAGSTER_HOME says, so the test
session (and every subprocess it starts) gets a temporary HOME and no DAGSTER_HOME. Hypothesis
keeps its constants cache in `.hypothesis/` of the working directory (the repository root): it
goes to that temporary HOME instead. xdist workers inherit both from the controller.
"""

import os
import shutil
import tempfile

_HOME: list[str] = []


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        home = tempfile.mkdtemp(prefix="compat-test-home-")
        _HOME.append(home)
        os.environ["HOME"] = home
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(home, ".hypothesis")
    # the harness's cache defaults to the user's own cache dir, which is in that temporary HOME:
    # the tests share one warm cache across sessions instead (a user's cache stays untouched)
    os.environ.setdefault("COMPAT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "compat-cache"))
    os.environ.pop("DAGSTER_HOME", None)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


def pytest_unconfigure(config):
    for home in _HOME:
        shutil.rmtree(home, ignore_errors=True)

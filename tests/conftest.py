"""The harness's own tests never see the user's home or DAGSTER_HOME.

Newer dagster writes a telemetry id under ~/.dagster whatever DAGSTER_HOME says, so the test
session (and every subprocess it starts) gets a temporary HOME and no DAGSTER_HOME.
"""

import os
import tempfile


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        os.environ["HOME"] = tempfile.mkdtemp(prefix="compat-test-home-")
    os.environ.pop("DAGSTER_HOME", None)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

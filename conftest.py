"""Loads the gate's plugin for runs from this repository even where the harness is not installed
(an installed harness registers it by entry point too; pytest loads it once either way)."""

pytest_plugins = ["compat.plugin"]

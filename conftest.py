"""Loads the gate's plugin for runs from this repository even where the harness is not installed.

An installed harness registers it by entry point under the name `compat`; it is loaded here only
when that did not happen, and never where the run said `-p no:compat`.
"""


def pytest_addhooks(pluginmanager):
    if pluginmanager.get_plugin("compat") is None and not pluginmanager.is_blocked("compat"):
        pluginmanager.import_plugin("compat.plugin")

"""verdict: typing

typed callers must now handle None.
"""
from pkg.mod import Instance
assert Instance().telemetry_enabled() is True

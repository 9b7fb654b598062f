"""verdict: compatible

a positional-only parameter absorbed by *args: every call binds.
"""
from pkg.mod import Instance
assert Instance().f(3) == 3

"""verdict: typing

typed callers passing a frozenset are rejected.
"""
from pkg.mod import Instance
assert Instance().create_run(frozenset({"a"})) == frozenset({"a"})

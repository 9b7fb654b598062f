"""verdict: typing

typed callers passing None are rejected by a type checker.
"""
from pkg.mod import Instance
assert Instance().f(None) is None

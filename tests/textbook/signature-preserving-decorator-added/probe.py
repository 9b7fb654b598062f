"""verdict: compatible

a wrapper that forwards every argument.
"""
from pkg.mod import Instance
assert Instance().f(1, b=2) == 3

"""verdict: compatible

nobody can pass a positional-only parameter by name.
"""
from pkg.mod import Instance
assert Instance().f(1) == 1

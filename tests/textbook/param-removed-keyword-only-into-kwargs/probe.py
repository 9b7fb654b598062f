"""verdict: compatible

the keyword still binds to **kwargs.
"""
from pkg.mod import Instance
assert Instance().f(1, b=2) == 1

"""verdict: compatible

the name of *args is not part of any call.
"""
from pkg.mod import Instance
assert Instance().f(1, 2) == (1, 2)

"""verdict: compatible

the name of **kwargs is not part of any call.
"""
from pkg.mod import Instance
assert Instance().f(1, x=2) == {"x": 2}

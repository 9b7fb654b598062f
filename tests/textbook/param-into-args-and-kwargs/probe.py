"""verdict: compatible

positional calls bind to *args, keyword calls to **kwargs.
"""
from pkg.mod import Instance
assert Instance().f(3) == 3
assert Instance().f(key=4) == 4

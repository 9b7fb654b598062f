"""verdict: runtime

another base's implementation now wins.
"""
from pkg.mod import Instance
assert Instance().f() == "a"

"""verdict: compatible

a name-mangled private is reachable from nowhere outside the class.
"""
from pkg.mod import Instance
assert Instance().f() == 1

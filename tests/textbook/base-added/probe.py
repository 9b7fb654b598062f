"""verdict: compatible

a new base adds, removes nothing.
"""
from pkg.mod import Instance
assert Instance().f() == 1

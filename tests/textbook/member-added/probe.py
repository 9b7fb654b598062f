"""verdict: compatible

a new method nobody defined.
"""
from pkg.mod import Instance
assert Instance().f() == 1

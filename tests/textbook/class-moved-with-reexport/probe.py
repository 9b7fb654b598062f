"""verdict: compatible

the old import path re-exports the moved class.
"""
from pkg.mod import Instance
assert Instance().f() == 1

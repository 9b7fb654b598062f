"""verdict: compatible

the same default, spelled with other quotes and spacing.
"""
from pkg.mod import Instance
assert Instance().f() == ("x", (1, 2))

"""verdict: compatible

collections.abc.Set is typing.AbstractSet under another import.
"""
from pkg.mod import Instance
assert Instance().create_run(frozenset({"a"})) == frozenset({"a"})

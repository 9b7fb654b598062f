"""verdict: compatible

the definition moved into a base that did not define it: the effective member is the same.
"""
from pkg.mod import Instance
assert Instance().get_partitions() == [1]

"""verdict: runtime

lookup now lands on the base's older implementation.
"""
from pkg.mod import Instance
assert Instance().get_partitions() == [1]

"""verdict: compatible

List[int] and list[int] are the same type.
"""
from pkg.mod import Instance
assert Instance().ids() == [1]

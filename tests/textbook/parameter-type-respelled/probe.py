"""verdict: compatible

Optional[int] and int | None are the same type.
"""
from pkg.mod import Instance
assert Instance().f() is None

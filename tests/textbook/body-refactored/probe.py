"""verdict: compatible

same results, another implementation.
"""
from pkg.mod import Instance
assert Instance().total([1, 2]) == 3

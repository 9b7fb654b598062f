"""verdict: compatible

subscription passes the key by position.
"""
from pkg.mod import Instance
assert Instance()["a"] == "a"

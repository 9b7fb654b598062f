"""verdict: compatible

every call of the staticmethod still works.
"""
from pkg.mod import Instance
assert Instance.parse(" a ") == "a" and Instance().parse(" b ") == "b"

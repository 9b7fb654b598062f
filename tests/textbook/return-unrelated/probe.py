"""verdict: typing

typed callers expect an int.
"""
from pkg.mod import Instance
assert Instance().count() == 1

"""verdict: typing

callers are fine; an override without the parameter is an incompatible override.
"""
from pkg.mod import Instance
class Sub(Instance):
    def daemons(self):
        return ["x"]
assert Instance().daemons() == []
assert Sub().daemons() == ["x"]

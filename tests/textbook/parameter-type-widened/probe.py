"""verdict: typing

callers are fine; an override typed `limit: int` is an incompatible override of a base accepting None.
"""
from pkg.mod import Instance
class Sub(Instance):
    def f(self, limit: int):
        return limit
assert Sub().f(1) == 1

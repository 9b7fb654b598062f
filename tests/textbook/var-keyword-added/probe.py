"""verdict: typing

callers are fine; an override `f(self, a: int)` no longer accepts the keywords the base now takes (an incompatible override).
"""
from pkg.mod import Instance
class Sub(Instance):
    def f(self, a: int) -> int:
        return super().f(a)
assert Sub().f(1) == 1

"""verdict: typing

callers are fine; an old override `f(self, a, *, b=None)` no longer accepts the positional call the base allows (incompatible override).
"""
from pkg.mod import Instance
class Sub(Instance):
    def f(self, a, *, b=None):
        return super().f(a, b=b)
assert Instance().f(1, b=2) == 2
assert Sub().f(1, b=2) == 2

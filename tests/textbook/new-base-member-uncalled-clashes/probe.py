"""verdict: typing

nothing calls it yet, but the subclass's method is now an incompatible override of the new base method.
"""
from pkg.mod import Instance
class Sub(Instance):
    def cleanup(self, everything) -> int:
        return everything
assert Sub().get_runs() == [1]

"""verdict: compatible

a split into mixins keeps every member reachable.
"""
from pkg.mod import Instance
class Sub(Instance):
    def get_runs(self):
        return super().get_runs() + [2]
assert Sub().get_runs() == [1, 2] and Sub()._get_setting("x") is None

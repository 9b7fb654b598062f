"""verdict: compatible

`type(self).m(self)` dispatches to the override like self.m().
"""
from pkg.mod import Instance
class Sub(Instance):
    def _hook(self):
        return "sub"
assert Sub().run() == "sub"

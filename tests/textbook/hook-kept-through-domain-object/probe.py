"""verdict: compatible

a helper built around the instance calls instance._hook().
"""
from pkg.mod import Instance
class Sub(Instance):
    def _hook(self):
        return "sub"
assert Sub().run() == "sub"

"""verdict: compatible

the hook is reached through a new helper method of the class.
"""
from pkg.mod import Instance
class Sub(Instance):
    def _hook(self):
        return "sub"
assert Sub().run() == "sub"

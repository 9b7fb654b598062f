"""verdict: runtime

the helper reads private state instead of the hook.
"""
from pkg.mod import Instance
class Sub(Instance):
    @property
    def storage(self):
        return "sub"
assert Sub().get() == "sub"

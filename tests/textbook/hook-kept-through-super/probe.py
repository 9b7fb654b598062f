"""verdict: compatible

super() runs the base's body, which dispatches through self.
"""
from pkg.mod import Instance
class Sub(Instance):
    @property
    def run_launcher(self):
        return "sub"
assert Sub().run() == "sub"

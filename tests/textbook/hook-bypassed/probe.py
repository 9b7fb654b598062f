"""verdict: runtime

the base reads private state instead of the overridable property.
"""
from pkg.mod import Instance
class Sub(Instance):
    @property
    def run_launcher(self):
        return "sub"
assert Sub().launch_run() == "sub"

"""verdict: compatible

`AssetMethods.wipe_assets(self, keys)` runs the mixin's body, which dispatches through self.
"""
from pkg.mod import Instance
class Sub(Instance):
    def handle_new_event(self, e):
        return "sub"
assert Sub().wipe_assets([]) == "sub"

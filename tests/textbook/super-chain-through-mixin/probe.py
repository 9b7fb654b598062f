"""verdict: compatible

super() from an override lands on the mixin that now holds the code.
"""
from pkg.mod import Instance
class Sub(Instance):
    def dispose(self):
        return ["sub"] + super().dispose()
assert Sub().dispose() == ["sub", "base"]

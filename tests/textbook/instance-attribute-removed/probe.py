"""verdict: runtime

a subclass reading self._settings gets AttributeError.
"""
from pkg.mod import Instance
class Sub(Instance):
    def setting(self):
        return self._settings.get("x")
Sub().setting()

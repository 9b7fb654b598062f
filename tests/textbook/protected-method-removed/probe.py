"""verdict: runtime

a subclass calling self._get_setting gets AttributeError.
"""
from pkg.mod import Instance
class Sub(Instance):
    def telemetry(self):
        return self._get_setting("telemetry")
Sub().telemetry()

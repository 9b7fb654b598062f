"""verdict: runtime

a subclass __init__ reading it after super().__init__() finds nothing.
"""
from pkg.mod import Instance
class Sub(Instance):
    def __init__(self):
        super().__init__()
        self.telemetry = self._settings.get("telemetry")
Sub()

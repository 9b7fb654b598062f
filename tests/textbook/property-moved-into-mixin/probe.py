"""verdict: compatible

the property is inherited from a new mixin.
"""
from pkg.mod import Instance
class Sub(Instance):
    @property
    def telemetry_enabled(self) -> bool:
        return not super().telemetry_enabled
assert Instance().telemetry_enabled is True and Sub().telemetry_enabled is False

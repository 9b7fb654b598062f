class SettingsMixin:
    @property
    def telemetry_enabled(self) -> bool:
        return True
class Instance(SettingsMixin):
    pass

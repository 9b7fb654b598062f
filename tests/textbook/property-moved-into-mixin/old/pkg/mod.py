class Instance:
    @property
    def telemetry_enabled(self) -> bool:
        return True

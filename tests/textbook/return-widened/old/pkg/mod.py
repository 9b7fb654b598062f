class Instance:
    def telemetry_enabled(self) -> bool:
        return True

from typing import Optional
class Instance:
    def telemetry_enabled(self) -> Optional[bool]:
        return True

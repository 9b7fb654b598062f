from typing import Mapping, Optional
class Instance:
    def health(self) -> Optional[Mapping[str, int]]:
        return {}

from typing import Mapping
class Instance:
    def health(self) -> Mapping[str, int]:
        return {}

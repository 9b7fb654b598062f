from typing import AbstractSet, Optional
class Instance:
    def create_run(self, asset_selection: Optional[AbstractSet[str]] = None):
        return asset_selection

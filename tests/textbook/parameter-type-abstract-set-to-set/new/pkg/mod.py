from typing import Optional, Set
class Instance:
    def create_run(self, asset_selection: Optional[Set[str]] = None):
        return asset_selection

from collections.abc import Set
from typing import Optional
class Instance:
    def create_run(self, asset_selection: Optional[Set[str]] = None):
        return asset_selection

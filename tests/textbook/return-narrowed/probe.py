"""verdict: typing

callers are fine; an override declaring `-> Optional[Mapping]` is an incompatible override of a base returning Mapping.
"""
from typing import Mapping, Optional
from pkg.mod import Instance
class Sub(Instance):
    def health(self) -> Optional[Mapping[str, int]]:
        return None
assert Sub().health() is None

from typing import Optional
class Instance:
    def f(self, limit: Optional[int]):
        return limit

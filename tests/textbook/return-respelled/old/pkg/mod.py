from typing import List
class Instance:
    def ids(self) -> List[int]:
        return [1]

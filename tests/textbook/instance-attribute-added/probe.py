"""verdict: compatible

a new attribute nobody used.
"""
from pkg.mod import Instance
class Sub(Instance):
    def __init__(self):
        super().__init__()
        self._mine = 1
assert Sub()._settings == {}

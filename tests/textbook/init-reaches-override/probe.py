"""verdict: runtime

base __init__ now calls an override before the subclass has set its state.
"""
from pkg.mod import Instance
class Sub(Instance):
    def __init__(self):
        super().__init__()
        self._name = "sub"
    def describe(self):
        return self._name
Sub()

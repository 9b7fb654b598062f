"""verdict: runtime

the base's __enter__ now overwrites the subclass's self._exit_stack.
"""
from pkg.mod import Instance
class Sub(Instance):
    def __init__(self):
        self._exit_stack = []
    def dispose(self):
        return self._exit_stack.append(1)
with Sub() as s:
    s.dispose()

"""verdict: compatible

reads and overrides behave the same.
"""
from pkg.mod import Instance
class Sub(Instance):
    @property
    def settings(self):
        return {"b": 2}
assert Instance().settings == {"a": 1} and Sub().settings == {"b": 2}

"""verdict: compatible

a new optional keyword of __init__: old constructions still bind; type checkers do not check __init__ overrides.
"""
from pkg.mod import Instance
class Sub(Instance):
    def __init__(self, settings=None):
        super().__init__(settings)
assert Sub(1)._settings == 1

"""verdict: typing

callers are fine; an override requiring the argument is an incompatible override of a base that makes it optional.
"""
from pkg.mod import Instance
class Sub(Instance):
    def get_records(self, filters):
        return super().get_records(filters)
assert Sub().get_records(1) == 1

"""verdict: runtime

the base now calls a method named like the subclass's own, with another meaning.
"""
from pkg.mod import Instance
class Sub(Instance):
    def cleanup(self, everything):
        return everything
assert Sub().get_runs() == [1]

"""verdict: runtime

the base now passes the new argument to an override that lacks it.
"""
from pkg.mod import Instance
class Sub(Instance):
    def fetch(self, a):
        return a + 1
assert Sub().run() == 2

"""verdict: compatible

getter and setter move together.
"""
from pkg.mod import Instance
i = Instance()
i.x = 2
assert i.x == 2

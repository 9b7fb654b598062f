"""verdict: compatible

keyword-only parameters have no position.
"""
from pkg.mod import Instance
assert Instance().f(a=3, b=4) == (3, 4)

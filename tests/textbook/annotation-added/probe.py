"""verdict: compatible

adding annotations changes no call.
"""
from pkg.mod import Instance
assert Instance().f(1) == 1

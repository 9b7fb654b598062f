"""verdict: runtime

extra positional arguments are refused.
"""
from pkg.mod import Instance
Instance().f(1, 2)

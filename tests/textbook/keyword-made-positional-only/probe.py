"""verdict: runtime

keyword callers are refused.
"""
from pkg.mod import Instance
Instance().f(a=1)

"""verdict: runtime

every existing call misses it.
"""
from pkg.mod import Instance
Instance().submit("r")

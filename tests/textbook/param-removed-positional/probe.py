"""verdict: runtime

a positional argument callers pass has nowhere to go.
"""
from pkg.mod import Instance
Instance().f(1, 2)

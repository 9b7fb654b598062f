"""verdict: runtime

keyword callers lose the parameter: *args takes no keywords.
"""
from pkg.mod import Instance
Instance().f(key=1)

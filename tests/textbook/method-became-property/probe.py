"""verdict: runtime

callers call the value.
"""
from pkg.mod import Instance
Instance().storage()

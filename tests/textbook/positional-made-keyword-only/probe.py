"""verdict: runtime

positional callers are refused.
"""
from pkg.mod import Instance
Instance().launch("r", "w")

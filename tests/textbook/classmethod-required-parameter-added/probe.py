"""verdict: runtime

callers of the factory miss an argument.
"""
from pkg.mod import Instance
Instance.ephemeral()

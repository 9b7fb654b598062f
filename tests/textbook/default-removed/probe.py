"""verdict: runtime

callers relying on the default miss an argument.
"""
from pkg.mod import Instance
Instance().get_backfills()

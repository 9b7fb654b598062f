"""verdict: runtime

callers get AttributeError.
"""
from pkg.mod import Instance
Instance().get_run_records()

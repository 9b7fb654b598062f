"""verdict: runtime

keyword callers use the old name.
"""
from pkg.mod import Instance
Instance().get_run(run_id="x")

"""verdict: runtime

unknown keywords are refused.
"""
from pkg.mod import Instance
Instance(instance_type=1, ref=2)

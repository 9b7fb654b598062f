"""verdict: runtime

keyword callers use the old name.
"""
from pkg.mod import Instance
Instance.parse(text="a")

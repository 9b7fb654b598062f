"""verdict: runtime

constructors called by keyword fail.
"""
from pkg.mod import Instance
Instance(settings={})

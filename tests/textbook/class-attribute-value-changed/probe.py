"""verdict: runtime

readers see another value.
"""
from pkg.mod import Instance
assert Instance.LIMIT == 3

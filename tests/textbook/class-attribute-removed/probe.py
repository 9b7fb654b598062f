"""verdict: runtime

readers of the constant get AttributeError.
"""
from pkg.mod import Instance
assert Instance.LIMIT == 3

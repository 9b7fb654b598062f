"""verdict: runtime

callers that omit the argument get other behaviour.
"""
from pkg.mod import Instance
assert Instance().get_runs() == 100

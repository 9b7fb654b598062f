"""verdict: runtime

positional callers' arguments land on the wrong parameters.
"""
from pkg.mod import Instance
assert Instance().add_tags("r", {"t": 1}) == ("r", {"t": 1})

"""verdict: runtime

`with instance:` fails.
"""
from pkg.mod import Instance
with Instance():
    pass

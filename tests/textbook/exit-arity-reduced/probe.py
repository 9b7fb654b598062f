"""verdict: runtime

`with` passes three arguments to __exit__.
"""
from pkg.mod import Instance
with Instance():
    pass

"""verdict: runtime

`from pkg.mod import InstanceRef` fails.
"""
from pkg.mod import InstanceRef

"""verdict: compatible

the companion class is still importable from the old module.
"""
from pkg.mod import InstanceRef
InstanceRef()

"""verdict: runtime

del raises AttributeError.
"""
from pkg.mod import Instance
del Instance().x

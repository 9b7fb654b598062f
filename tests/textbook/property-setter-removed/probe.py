"""verdict: runtime

assigning the property raises AttributeError.
"""
from pkg.mod import Instance
i = Instance()
i.x = 1

"""verdict: runtime

isinstance checks against the base fail.
"""
from pkg.mod import ConfigurableClass, Instance
assert isinstance(Instance(), ConfigurableClass)

"""verdict: runtime

Sub.make() no longer builds a Sub.
"""
from pkg.mod import Instance
class Sub(Instance):
    pass
assert isinstance(Sub.make(), Sub)

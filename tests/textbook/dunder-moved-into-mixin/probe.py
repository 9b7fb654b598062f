"""verdict: compatible

__enter__/__exit__ inherited from a mixin.
"""
from pkg.mod import Instance
with Instance() as i:
    assert isinstance(i, Instance)

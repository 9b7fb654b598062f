"""verdict: compatible

the interpreter passes __exit__'s arguments by position.
"""
from pkg.mod import Instance
with Instance() as i:
    pass

"""verdict: runtime

`from pkg import Instance` fails.
"""
from pkg import Instance

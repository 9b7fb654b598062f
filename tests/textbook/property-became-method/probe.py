"""verdict: runtime

readers get a bound method instead of the value.
"""
from pkg.mod import Instance
assert Instance().run_launcher + 1 == 2

"""verdict: compatible

definition order inside the class body is no contract.
"""
from pkg.mod import Instance
assert (Instance().a(), Instance().b()) == (1, 2)

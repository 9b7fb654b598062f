"""The static half: surfaces read with griffe and ast, subclass profiles, the surface diff."""

"""Differential fuzzing: Hypothesis programs that tell two dagsters apart, and the stored ones."""

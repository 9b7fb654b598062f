"""The data every layer shares: surfaces, findings, traces, baselines, canonical JSON."""

"""Commands built on the pipeline: bisect, mutate, perf."""

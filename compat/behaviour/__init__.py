"""The behavioural half: scenarios, spy subclasses, record and replay in worker interpreters."""

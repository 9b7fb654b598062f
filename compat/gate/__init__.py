"""The pre-merge gate's machinery: settings, accepted changes, atomic re-recording."""

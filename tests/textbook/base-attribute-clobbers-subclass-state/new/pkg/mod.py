import contextlib
class Instance:
    def __enter__(self):
        self._exit_stack = contextlib.ExitStack()
        return self
    def __exit__(self, *exc):
        return False

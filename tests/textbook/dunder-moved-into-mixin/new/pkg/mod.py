class ContextMixin:
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return False
class Instance(ContextMixin):
    pass

class Instance:
    def __enter__(self):
        return self
    def __exit__(self, _exc_type, _exc, _tb):
        return False

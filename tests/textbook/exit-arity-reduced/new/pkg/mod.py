class Instance:
    def __enter__(self):
        return self
    def __exit__(self):
        return False

class Instance:
    def __exit__(self, *exc):
        return False

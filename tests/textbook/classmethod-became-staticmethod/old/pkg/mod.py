class Instance:
    @classmethod
    def make(cls):
        return cls()

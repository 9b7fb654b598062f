class Instance:
    def f(self, limit: int):
        return limit

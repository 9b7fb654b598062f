class Instance:
    def f(self, a: int) -> int:
        return a

class Instance:
    def f(self, a: int, **kwargs: object) -> int:
        return a

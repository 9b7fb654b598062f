class Instance:
    def f(self, a, /):
        return a

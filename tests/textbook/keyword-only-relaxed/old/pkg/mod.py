class Instance:
    def f(self, a, *, b=None):
        return b

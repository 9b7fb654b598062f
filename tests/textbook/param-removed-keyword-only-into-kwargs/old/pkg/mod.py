class Instance:
    def f(self, a, *, b=None, **kwargs):
        return a

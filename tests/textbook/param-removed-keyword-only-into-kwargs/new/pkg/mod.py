class Instance:
    def f(self, a, **kwargs):
        return a

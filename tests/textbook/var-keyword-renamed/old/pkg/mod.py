class Instance:
    def f(self, a, **kw):
        return kw

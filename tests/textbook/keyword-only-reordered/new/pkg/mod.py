class Instance:
    def f(self, *, b=2, a=1):
        return (a, b)

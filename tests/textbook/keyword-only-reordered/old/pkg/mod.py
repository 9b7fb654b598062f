class Instance:
    def f(self, *, a=1, b=2):
        return (a, b)

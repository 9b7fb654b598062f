class Instance:
    def f(self, a, b=1):
        return a + b

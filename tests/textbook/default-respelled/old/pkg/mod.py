class Instance:
    def f(self, a='x', b=(1,2)):
        return (a, b)

class Instance:
    def f(self):
        return 0

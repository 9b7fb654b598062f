class Instance:
    def f(self):
        return 1

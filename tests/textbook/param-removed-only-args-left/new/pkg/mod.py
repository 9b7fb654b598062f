class Instance:
    def f(self, *args):
        return args[0]

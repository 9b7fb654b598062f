class Instance:
    def f(self, *args):
        return len(args)

class Instance:
    def f(self, *key):
        return key[0]

class Instance:
    def f(self, *items):
        return items

class Instance:
    def __init__(self):
        self._ready = True
        self._label = self.describe()
    def describe(self):
        return "base"

class Instance:
    def __init__(self):
        self._ready = True
    def describe(self):
        return "base"

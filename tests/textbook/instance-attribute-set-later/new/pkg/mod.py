class Instance:
    def __init__(self):
        pass
    def load(self):
        self._settings = {}

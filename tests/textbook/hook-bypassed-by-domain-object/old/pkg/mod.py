class Instance:
    def __init__(self):
        self._storage = "base"
    @property
    def storage(self):
        return self._storage
    def get(self):
        return self.storage

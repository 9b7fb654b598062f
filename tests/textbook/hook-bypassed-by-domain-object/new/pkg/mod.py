class Domain:
    def __init__(self, instance):
        self._instance = instance
    def get(self):
        return self._instance._storage
class Instance:
    def __init__(self):
        self._storage = "base"
    @property
    def storage(self):
        return self._storage
    @property
    def _domain(self):
        return Domain(self)
    def get(self):
        return self._domain.get()

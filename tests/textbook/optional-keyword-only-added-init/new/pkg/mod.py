class Instance:
    def __init__(self, settings=None, *, storage=None):
        self._settings = settings
        self._storage = storage

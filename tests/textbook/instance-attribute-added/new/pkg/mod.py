class Instance:
    def __init__(self):
        self._settings = {}
        self._cache = {}

class Instance:
    def __init__(self, settings=None):
        self._settings = settings

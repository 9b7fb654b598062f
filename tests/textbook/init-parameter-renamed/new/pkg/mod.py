class Instance:
    def __init__(self, config=None):
        self._settings = config

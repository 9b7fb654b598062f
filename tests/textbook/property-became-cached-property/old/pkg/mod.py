class Instance:
    @property
    def settings(self):
        return {"a": 1}

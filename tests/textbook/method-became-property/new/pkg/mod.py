class Instance:
    @property
    def storage(self):
        return 1

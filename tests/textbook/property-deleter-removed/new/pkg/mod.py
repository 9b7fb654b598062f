class Instance:
    @property
    def x(self):
        return 1

class Instance:
    @property
    def x(self):
        return 1
    @x.deleter
    def x(self):
        pass

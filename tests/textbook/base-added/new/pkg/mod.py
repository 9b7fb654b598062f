class Marker:
    pass
class Instance(Marker):
    def f(self):
        return 1

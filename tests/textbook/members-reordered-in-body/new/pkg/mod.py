class Instance:
    def b(self):
        return 2
    def a(self):
        return 1

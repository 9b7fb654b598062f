class Instance:
    def run(self):
        return self.fetch(1)
    def fetch(self, a):
        return a

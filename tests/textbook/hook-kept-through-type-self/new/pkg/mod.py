class Instance:
    def _hook(self):
        return "base"
    def run(self):
        return type(self)._hook(self)

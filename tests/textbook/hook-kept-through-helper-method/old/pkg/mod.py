class Instance:
    def _hook(self):
        return "base"
    def run(self):
        return self._hook()

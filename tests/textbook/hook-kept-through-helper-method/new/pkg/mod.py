class Instance:
    def _hook(self):
        return "base"
    def _helper(self):
        return self._hook()
    def run(self):
        return self._helper()

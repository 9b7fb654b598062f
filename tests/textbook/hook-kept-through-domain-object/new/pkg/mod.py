class RunDomain:
    def __init__(self, instance):
        self._instance = instance
    def run(self):
        return self._instance._hook()
class Instance:
    @property
    def _runs(self):
        return RunDomain(self)
    def _hook(self):
        return "base"
    def run(self):
        return self._runs.run()

class Instance:
    def __init__(self):
        self._run_launcher = "base"
    @property
    def run_launcher(self):
        return self._run_launcher
    def launch_run(self):
        return self._run_launcher

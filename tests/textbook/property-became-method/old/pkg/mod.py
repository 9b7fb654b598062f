class Instance:
    @property
    def run_launcher(self):
        return 1

class Instance:
    def run_launcher(self):
        return 1

class Instance:
    def cleanup(self):
        return None
    def get_runs(self):
        self.cleanup()
        return [1]

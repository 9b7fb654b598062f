class Instance:
    def get_runs(self, limit=100):
        return limit

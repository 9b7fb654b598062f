class Instance:
    def get_runs(self, limit=50):
        return limit

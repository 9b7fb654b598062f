class Instance:
    def get_runs(self):
        return [1]
    def _get_setting(self, key):
        return None

class Instance:
    def _get_setting(self, key):
        return None

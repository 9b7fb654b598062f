class Instance:
    def handle_new_event(self, e):
        return "base"
    def wipe_assets(self, keys):
        return self.handle_new_event(keys)

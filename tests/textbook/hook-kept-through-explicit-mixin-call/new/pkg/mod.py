class AssetMethods:
    def wipe_assets(self, keys):
        return self.handle_new_event(keys)
class Instance(AssetMethods):
    def handle_new_event(self, e):
        return "base"
    def wipe_assets(self, keys):
        return AssetMethods.wipe_assets(self, keys)

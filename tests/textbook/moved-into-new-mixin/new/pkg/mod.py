class RunMethods:
    def get_runs(self):
        return [1]
class SettingsMethods:
    def _get_setting(self, key):
        return None
class Instance(RunMethods, SettingsMethods):
    pass

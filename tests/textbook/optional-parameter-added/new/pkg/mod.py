class Instance:
    def daemons(self, include_optional=False):
        return []

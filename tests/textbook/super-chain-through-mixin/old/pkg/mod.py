class Instance:
    def dispose(self):
        return ["base"]

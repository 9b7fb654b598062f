class Instance:
    @staticmethod
    def make():
        return Instance()

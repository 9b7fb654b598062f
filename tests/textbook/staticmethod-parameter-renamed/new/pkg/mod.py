class Instance:
    @staticmethod
    def parse(value):
        return value

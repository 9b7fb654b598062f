class Instance:
    @classmethod
    def parse(cls, text):
        return text.strip()

class Instance:
    @staticmethod
    def parse(text):
        return text.strip()

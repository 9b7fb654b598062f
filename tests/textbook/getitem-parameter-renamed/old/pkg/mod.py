class Instance:
    def __getitem__(self, key):
        return key

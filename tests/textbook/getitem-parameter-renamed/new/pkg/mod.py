class Instance:
    def __getitem__(self, name):
        return name

class Instance:
    def storage(self):
        return 1

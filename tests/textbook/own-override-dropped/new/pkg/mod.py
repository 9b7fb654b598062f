class Store:
    def get_partitions(self):
        return []
class Instance(Store):
    pass

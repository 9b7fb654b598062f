class Store:
    def get_partitions(self):
        return []
class Instance(Store):
    def get_partitions(self):
        return [1]

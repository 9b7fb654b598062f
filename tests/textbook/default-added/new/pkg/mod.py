class Instance:
    def get_records(self, filters=None):
        return filters

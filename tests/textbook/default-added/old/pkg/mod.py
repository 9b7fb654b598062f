class Instance:
    def get_records(self, filters):
        return filters

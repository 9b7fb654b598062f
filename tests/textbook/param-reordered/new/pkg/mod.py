class Instance:
    def add_tags(self, tags, run_id):
        return (run_id, tags)

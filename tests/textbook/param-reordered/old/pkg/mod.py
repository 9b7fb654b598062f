class Instance:
    def add_tags(self, run_id, tags):
        return (run_id, tags)

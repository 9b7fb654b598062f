class Instance:
    def submit(self, run_id, *, workspace):
        return run_id

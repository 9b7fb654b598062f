class Instance:
    def get_run(self, run_id):
        return run_id

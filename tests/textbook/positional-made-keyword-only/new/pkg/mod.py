class Instance:
    def launch(self, run_id, *, workspace):
        return workspace

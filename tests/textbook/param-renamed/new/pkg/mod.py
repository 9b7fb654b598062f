class Instance:
    def get_run(self, id):
        return id

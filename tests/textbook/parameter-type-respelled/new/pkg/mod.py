class Instance:
    def f(self, limit: "int | None" = None):
        return limit

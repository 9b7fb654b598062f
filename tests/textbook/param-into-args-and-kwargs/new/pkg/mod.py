class Instance:
    def f(self, *args, **kwargs):
        return args[0] if args else kwargs["key"]

class Instance:
    def __init__(self, instance_type=None, **kwargs):
        self.t = instance_type

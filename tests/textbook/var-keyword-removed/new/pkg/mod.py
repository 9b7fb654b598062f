class Instance:
    def __init__(self, instance_type=None):
        self.t = instance_type

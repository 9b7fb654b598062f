class InstanceRef:
    pass
class Instance:
    pass

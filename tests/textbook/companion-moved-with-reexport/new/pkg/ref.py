class InstanceRef:
    pass

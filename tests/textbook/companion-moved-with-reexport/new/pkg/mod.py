from pkg.ref import InstanceRef
class Instance:
    pass
__all__ = ["Instance", "InstanceRef"]

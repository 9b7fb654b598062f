class LifecycleMixin:
    def dispose(self):
        return ["base"]
class Instance(LifecycleMixin):
    pass

from functools import cached_property
class Instance:
    @cached_property
    def settings(self):
        return {"a": 1}

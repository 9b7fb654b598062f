class A:
    def f(self):
        return "a"
class B:
    def f(self):
        return "b"
class Instance(B, A):
    pass

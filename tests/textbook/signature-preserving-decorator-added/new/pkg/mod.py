import functools
def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper
class Instance:
    @traced
    def f(self, a, b=1):
        return a + b

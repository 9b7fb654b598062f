class ConfigurableClass:
    pass
class Instance:
    pass

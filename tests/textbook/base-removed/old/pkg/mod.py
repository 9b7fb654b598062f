class ConfigurableClass:
    pass
class Instance(ConfigurableClass):
    pass

class Instance:
    pass

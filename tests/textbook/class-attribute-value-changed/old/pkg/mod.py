class Instance:
    LIMIT = 3

class Instance:
    LIMIT = 5

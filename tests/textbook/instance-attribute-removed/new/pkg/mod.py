class Instance:
    def __init__(self):
        pass

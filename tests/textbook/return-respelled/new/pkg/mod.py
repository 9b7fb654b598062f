class Instance:
    def ids(self) -> "list[int]":
        return [1]

class Instance:
    def __helper(self):
        return 1
    def f(self):
        return self.__helper()

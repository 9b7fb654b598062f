class Instance:
    def __compute(self):
        return 1
    def f(self):
        return self.__compute()

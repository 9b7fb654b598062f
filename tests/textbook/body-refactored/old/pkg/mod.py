class Instance:
    def total(self, xs):
        t = 0
        for x in xs:
            t += x
        return t

class Base:
    def run(self):
        return 0
class Instance(Base):
    @property
    def run_launcher(self):
        return "base"
    def run(self):
        return self.run_launcher

"""What runs inside every worker interpreter, whichever producer started it: the spy subclasses
(``spy.py``), the recorder of what a recording worker ran (``recorder.py``), the speed-ups a worker
installs (``speedups.py``) and the building of a fresh instance of a named subclass
(``instance.py``). The behaviour and fuzz workers share them; neither producer imports the other.
Every module here imports only the standard library, dagster and the subclass corpus.
"""

"""`compat perf --old SPEC --new SPEC`: does the refactored class make hot paths slower?

Hot instance methods (run creation, event reporting, settings reads, run queries) are timed
through a corpus subclass in one worker per version. Rounds alternate between the versions so
that a noisy machine slows both alike; each figure is the fastest per-round mean (the least
disturbed by other load on the machine), and a
method is flagged when new/old exceeds 1 + threshold *and* the difference is above a noise
floor. Reported as ratios, the only figures comparable across machines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from compat import sides
from compat.channel import WorkerProcess

NOISE_FLOOR = 20e-6  # seconds per call
BENCH_TIMEOUT = 300.0


class PerfWorker(WorkerProcess):
    def __init__(self, python: str, label: str, subclass: str, storage: str):
        self.label = label
        super().__init__(python, "compat.tools.perf_worker", name=f"perf worker for {label}",
                         args=(json.dumps({"subclass": subclass, "storage": storage}),))
        self.version = self.dagster_version
        self.benches = self.hello["benches"]

    def time(self, bench: str, n: int) -> float:
        return self.request({"bench": bench, "n": n}, BENCH_TIMEOUT, f"bench {bench}")["seconds"]


@dataclass
class Timing:
    bench: str
    old: float
    new: float
    threshold: float

    @property
    def ratio(self) -> float:
        return self.new / self.old if self.old else float("inf")

    @property
    def regressed(self) -> bool:
        return self.ratio > 1 + self.threshold and (self.new - self.old) > NOISE_FLOOR


def measure(old_python: str, new_python: str, *, labels: tuple[str, str], subclass: str = "spy:create-run-tags",
            storage: str = "sqlite", rounds: int = 7, calls: int = 20, threshold: float = 0.25,
            progress: Callable[[str], None] = lambda m: None) -> list[Timing]:
    old = PerfWorker(old_python, labels[0], subclass, storage)
    new = PerfWorker(new_python, labels[1], subclass, storage)
    try:
        results = []
        for bench in sorted(set(old.benches) & set(new.benches)):
            progress(f"timing {bench}")
            old.time(bench, max(1, calls // 4))  # warm-up
            new.time(bench, max(1, calls // 4))
            o, n = [], []
            for _ in range(rounds):
                o.append(old.time(bench, calls))
                n.append(new.time(bench, calls))
            results.append(Timing(bench, min(o), min(n), threshold))
        return results
    finally:
        old.close()
        new.close()


def render(timings: list[Timing], labels: tuple[str, str], subclass: str, storage: str) -> str:
    lines = [f"hot paths through {subclass} ({storage} storage): per-call best-of-rounds, {labels[0]} -> {labels[1]}",
             f"  {'method':<22} {labels[0]:>14} {labels[1]:>14} {'new/old':>8}  verdict"]
    for t in timings:
        verdict = "REGRESSION" if t.regressed else ("faster" if t.ratio < 1 / (1 + t.threshold) else "same")
        lines.append(f"  {t.bench:<22} {t.old * 1e3:>11.3f} ms {t.new * 1e3:>11.3f} ms {t.ratio:>7.2f}x  {verdict}")
    return "\n".join(lines)


def perf(old_spec: str, new_spec: str, *, threshold: float = 0.25, rounds: int = 7, storage: str = "sqlite",
         subclass: str = "spy:create-run-tags", progress: Callable[[str], None] = lambda m: None) -> int:
    pythons, names = [], []
    for text in (old_spec, new_spec):
        side = sides.resolve(text)
        progress(f"preparing {side.label}")
        pythons.append(side.python)
        names.append(side.label)
    labels = (names[0], names[1])
    timings = measure(pythons[0], pythons[1], labels=labels, subclass=subclass, storage=storage, rounds=rounds,
                      threshold=threshold, progress=progress)
    print(render(timings, labels, subclass, storage))
    regressions = [t for t in timings if t.regressed]
    print(f"{len(regressions)} regression(s) beyond +{threshold:.0%}")
    return 1 if regressions else 0

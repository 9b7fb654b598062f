"""Smoke checks for every corpus class, printed as JSON, runnable under any supported dagster.

Run it as its own process (``python -m compat.corpus.smoke [NAME ...]``): it points
``DAGSTER_HOME`` and ``HOME`` at fresh temporary directories for the whole process, so nothing
it does (including dagster's telemetry and the ``get()`` pattern) touches a real home.

Output: ``{"dagster_version": ..., "classes": {name: {check: outcome}}}`` where every outcome
is ``{"ok": true, "value": ...}`` or ``{"ok": false, "error": "<ExceptionType>: <message>"}``.
A failing check is data, not a crash: the caller decides what each version should do.

The checks of each class are in smoke_checks.py, the probes of the base in smoke_probes.py, what
they share in smoke_kit.py.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import sys
import tempfile
from abc import ABCMeta
from typing import Any, Iterator

from compat.corpus import CORPUS, load_class, smoke_kit
from compat.corpus.smoke_kit import _outcome, _Built
from compat.corpus.smoke_checks import CHECKS
from compat.corpus.smoke_probes import run_probes

# ---------------------------------------------------------------------------------------------
# checks shared by every class


def _construction(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    expected = CORPUS[name].partition(":")[2]
    for storage in ("sqlite", "memory"):
        for via in ("direct", "yaml"):

            def build(storage=storage, via=via) -> str:
                with _Built(name, storage, via) as instance:
                    got = type(instance).__name__
                    if got != expected:
                        raise AssertionError(f"built a {got}, expected {expected}")
                    return got

            yield f"construct:{storage}:{via}", _outcome(build)


def _protocol_side_effects(name: str) -> dict[str, Any]:
    cls = load_class(name)
    return {
        "abstract": inspect.isabstract(cls),
        "has_is_protocol": "_is_protocol" in vars(cls),
        "has_subclasshook": "__subclasshook__" in vars(cls),
        "metaclass_is_abcmeta": isinstance(cls, ABCMeta),
    }


def run_smoke(names: list[str] | None = None) -> dict[str, Any]:
    """Run the smoke checks for ``names`` (default: every corpus class)."""
    import dagster

    results: dict[str, Any] = {}
    for name in names or list(CORPUS):
        checks: dict[str, Any] = dict(_construction(name))
        checks["protocol"] = _outcome(lambda: _protocol_side_effects(name))
        for check_name, fn in CHECKS[name]().items():
            checks[check_name] = _outcome(fn)
        results[name] = checks
    return {"dagster_version": dagster.__version__, "classes": results, "probes": run_probes()}


def main(argv: list[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv)
    unknown = [n for n in names if n not in CORPUS]
    if unknown:
        print(f"unknown corpus class(es): {', '.join(unknown)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="corpus-smoke-") as root:
        smoke_kit.set_root(root)
        home = os.path.join(root, "dagster_home")
        os.makedirs(home)
        user_home = os.path.join(root, "user_home")
        os.makedirs(user_home)
        # everything dagster writes on its own lands in this process's temp dirs: telemetry
        # logs go to $DAGSTER_HOME, and newer dagster keeps a per-user id under ~/.dagster
        os.environ["DAGSTER_HOME"] = home
        os.environ["HOME"] = user_home
        logging.getLogger("dagster").setLevel(logging.ERROR)
        real_stdout = sys.stdout
        sys.stdout = sys.stderr  # banners and prints from dagster must not mix with the JSON
        try:
            results = run_smoke(names)
        finally:
            sys.stdout = real_stdout
    sys.stdout.write(json.dumps(results, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

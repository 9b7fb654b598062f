"""A fresh instance of a named subclass, spies included, as every worker builds one: the behaviour
worker for a cell, the fuzz worker for a program, the perf worker for a timing.

``base`` is plain DagsterInstance, a corpus name one of the override subclasses (``yaml:<name>``
builds it through ``instance_class:`` in a dagster.yaml), ``spy`` the recording subclass of
DagsterInstance and ``spy:<name>`` one on top of a corpus class. Imports: stdlib, dagster, and
compat modules that import only those (spy, corpus).
"""

from __future__ import annotations

from compat.worker import spy as spy_mod

SPY = "spy"


def _corpus():
    """The subclass corpus module, or None while it does not exist in this checkout."""
    try:
        from compat import corpus  # type: ignore[attr-defined]
    except ImportError:
        return None
    if not hasattr(corpus, "make_instance") or not hasattr(corpus, "CORPUS"):
        return None
    return corpus


def _base_instance(base_dir: str, storage: str, settings: dict | None):
    from dagster._core.instance import DagsterInstance

    if storage == "memory":
        return DagsterInstance.ephemeral(tempdir=base_dir, settings=settings or None)
    if storage == "sqlite":
        return DagsterInstance.local_temp(tempdir=base_dir, overrides=settings or None)
    raise ValueError(f"unknown storage {storage!r} (expected memory or sqlite)")


def build_instance(subclass: str, base_dir: str, storage: str, settings: dict | None = None):
    """A fresh instance of the named subclass (spies included) rooted in ``base_dir``."""
    spying = subclass == SPY or subclass.startswith(SPY + ":")
    name = subclass.split(":", 1)[1] if subclass.startswith(SPY + ":") else ("base" if spying else subclass)
    via = "direct"
    if name.startswith("yaml:"):  # built through instance_class: in a dagster.yaml
        via, name = "yaml", name.split(":", 1)[1]
    corpus = _corpus()
    if corpus is not None and name in corpus.CORPUS:
        instance = corpus.make_instance(name, base_dir, storage=storage, via=via)
        if settings:
            instance._settings = {**(instance._settings or {}), **settings}
    elif name == "base":
        instance = _base_instance(base_dir, storage, settings)
    else:
        known = sorted(corpus.CORPUS) if corpus is not None else ["base"]
        raise LookupError(f"unknown subclass {name!r} (known: {', '.join(known)}, spy, spy:<name>)")
    if spying:
        spy_mod.attach(instance)
    return instance

"""Probes: throwaway subclasses (not corpus members) that measure base behaviour subclasses depend
on, so that a difference between dagster versions shows up as data. Imports: stdlib, dagster
and the corpus.
"""

from __future__ import annotations

from typing import Any

from compat.corpus import direct_kwargs
from compat.corpus.smoke_kit import _fresh_dir, _outcome

# ---------------------------------------------------------------------------------------------
# probes: throwaway subclasses (not corpus members) measuring base behaviour that subclasses
# depend on, so that version differences show up as data


def _probe_init_dispatch() -> dict[str, Any]:
    """Which class-level members base ``__init__`` reaches through ``self`` (pattern 10)."""
    from dagster._core.instance import DagsterInstance

    members = set(dir(DagsterInstance))

    class Recording(DagsterInstance):
        def __getattribute__(self, item: str) -> Any:
            log = object.__getattribute__(self, "__dict__").get("_probe_log")
            if log is None:
                log = []
                object.__getattribute__(self, "__dict__")["_probe_log"] = log
            if item in members and item != "__dict__":
                log.append(item)
            return super().__getattribute__(item)

    result = {}
    for label, settings in (
        ("default", {}),
        ("run_monitoring_with_resume", {"run_monitoring": {"enabled": True, "max_resume_run_attempts": 1}}),
    ):
        kwargs = direct_kwargs("base", _fresh_dir(), storage="memory")
        kwargs["settings"] = settings
        from compat.corpus.components import LocalStateRunLauncher

        kwargs["run_launcher"] = LocalStateRunLauncher()
        instance = Recording(**kwargs)
        touched = list(instance.__dict__["_probe_log"])
        instance.dispose()
        seen: list[str] = []
        for name in touched:
            if name not in seen:
                seen.append(name)
        result[label] = seen
    return result


def _probe_enter_without_super() -> dict[str, Any]:
    """A subclass whose ``__enter__`` returns ``self`` without calling ``super().__enter__()``."""
    from dagster._core.instance import DagsterInstance

    class NoSuperEnter(DagsterInstance):
        def __enter__(self):
            return self

    def use():
        instance = NoSuperEnter(**direct_kwargs("base", _fresh_dir(), storage="memory"))
        with instance:
            pass
        return "ok"

    return _outcome(use)


def _probe_own_exit_stack() -> dict[str, Any]:
    """A subclass that keeps its own ``self._exit_stack`` (a name the base may start using)."""
    from contextlib import ExitStack

    from dagster._core.instance import DagsterInstance

    class OwnExitStack(DagsterInstance):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self._exit_stack = ExitStack()
            self.closed_by_subclass = []
            self._exit_stack.callback(lambda: self.closed_by_subclass.append("closed"))

        def dispose(self) -> None:
            super().dispose()
            self._exit_stack.close()

    def use():
        instance = OwnExitStack(**direct_kwargs("base", _fresh_dir(), storage="memory"))
        with instance:
            pass
        return {"subclass_cleanup_ran": instance.closed_by_subclass == ["closed"]}

    return _outcome(use)


def _probe_launcher_state_set_after_super() -> dict[str, Any]:
    """The real agent's ``run_launcher`` reads state its ``__init__`` sets after ``super()``:
    fine until the base ``__init__`` itself reaches ``self.run_launcher`` (pattern 10)."""
    from dagster._core.instance import DagsterInstance

    from compat.corpus.components import LocalStateRunLauncher

    class LateStateLauncher(DagsterInstance):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self._launcher_source = LocalStateRunLauncher()

        @property
        def run_launcher(self):
            return self._launcher_source

    def build(settings):
        def check():
            kwargs = direct_kwargs("base", _fresh_dir(), storage="memory")
            kwargs["settings"] = settings
            instance = LateStateLauncher(**kwargs)
            instance.dispose()
            return "constructed"

        return check

    return {
        "default_settings": _outcome(build({})),
        "run_monitoring_with_resume": _outcome(
            build({"run_monitoring": {"enabled": True, "max_resume_run_attempts": 1}})
        ),
    }


def run_probes() -> dict[str, Any]:
    return {
        "launcher_state_set_after_super": _probe_launcher_state_set_after_super(),
        "init_dispatch": _outcome(_probe_init_dispatch),
        "enter_without_super": _probe_enter_without_super(),
        "own_exit_stack": _probe_own_exit_stack(),
    }

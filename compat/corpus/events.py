"""Overrides on the run and event paths: filtering stored events, tagging created runs."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from dagster import Field, Map
from dagster._core.instance import DagsterInstance, InstanceRef


class EventFilterInstance(DagsterInstance):
    """Event-filter override: ``should_store_event`` (present on dagster 1.11.4 and 1.13.x)
    calls ``super()`` and then drops plain log records (not dagster events) below the
    subclass's own ``min_stored_log_level``, counting what it dropped in local state.

    Models dagster-cloud's agent-side filtering of what reaches its (remote) event storage.
    Base paths must keep consulting ``self.should_store_event`` before storing
    (``store_event``, ``handle_new_event``), which moved into an event mixin in the refactor
    (pattern 20).
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {"min_stored_log_level": Field(int, is_required=False, default_value=logging.INFO)}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, min_stored_log_level: int = logging.INFO, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._min_stored_log_level = min_stored_log_level
        self.dropped_messages: list[str] = []

    def should_store_event(self, event) -> bool:
        if not super().should_store_event(event):
            return False
        if event.dagster_event is None and event.level < self._min_stored_log_level:
            self.dropped_messages.append(event.user_message)
            return False
        return True


class CreateRunTagsInstance(DagsterInstance):
    """``create_run`` override that adds tags and forwards ``*args, **kwargs`` to ``super()``.

    dagster-cloud stamps deployment/agent tags onto every run it creates; here the tags come
    from the subclass's own ``extra_run_tags`` config. Only runs whose creation dispatches
    through ``self.create_run`` get the tags. ``create_run`` moved into a run mixin that
    delegates to an internal run domain (pattern 20); on newer dagster that domain's
    ``create_run_for_job`` calls its own ``create_run``, so the override is skipped there.
    """

    DEFAULT_TAGS = {"corpus/origin": "create-run-tags"}

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {
            "extra_run_tags": Field(
                Map(str, str), is_required=False, default_value=dict(cls.DEFAULT_TAGS)
            )
        }

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, extra_run_tags: Mapping[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._extra_run_tags = dict(self.DEFAULT_TAGS if extra_run_tags is None else extra_run_tags)
        self.create_run_calls = 0

    def create_run(self, *args: Any, **kwargs: Any):
        self.create_run_calls += 1
        kwargs["tags"] = {**(kwargs.get("tags") or {}), **self._extra_run_tags}
        return super().create_run(*args, **kwargs)

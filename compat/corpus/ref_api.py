"""A subclass API built on the instance-ref round trip."""

from __future__ import annotations

import json
from typing import Any, Mapping

from dagster import Field
from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.instance import DagsterInstance, InstanceRef
from dagster._serdes import ConfigurableClassData


class RefRoundTripInstance(DagsterInstance):
    """Pattern 16: dagster-cloud builds per-deployment copies of its instance with
    ``self.get_ref()``, ``InstanceRef._replace(...)`` and ``DagsterInstance.from_ref(...)``,
    which must rebuild the subclass (with its own config) rather than a plain base instance.

    ``with_settings`` replaces the ref's settings; ``with_label`` replaces the subclass's own
    config inside the ref's ``custom_instance_class_data``. Only instances that carry a ref
    (persistent ones) support this; ephemeral ones raise from ``get_ref``.
    """

    @classmethod
    def config_schema(cls) -> Mapping[str, Any]:
        return {"label": Field(str, is_required=False, default_value="primary")}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        return InstanceRef.config_defaults(base_dir)

    def __init__(self, *args: Any, label: str = "primary", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._label = label

    @property
    def label(self) -> str:
        return self._label

    def _rebuild(self, ref: InstanceRef) -> "RefRoundTripInstance":
        instance = DagsterInstance.from_ref(ref)
        if not isinstance(instance, RefRoundTripInstance):
            raise DagsterInvariantViolationError(
                f"ref round trip rebuilt a {type(instance).__name__}, not a RefRoundTripInstance"
            )
        return instance

    def with_settings(self, settings: Mapping[str, Any]) -> "RefRoundTripInstance":
        ref = self.get_ref()
        return self._rebuild(ref._replace(settings={**ref.settings, **settings}))

    def with_label(self, label: str) -> "RefRoundTripInstance":
        ref = self.get_ref()
        data = ref.custom_instance_class_data
        if data is None:
            raise DagsterInvariantViolationError("this instance's ref names no instance_class")
        new_data = ConfigurableClassData(
            data.module_name, data.class_name, json.dumps({**data.config_dict, "label": label})
        )
        return self._rebuild(ref._replace(custom_instance_class_data=new_data))

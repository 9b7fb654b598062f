"""Local stand-ins for the components dagster-cloud's subclasses talk to over the network.

dagster-cloud's instances hand work to remote services (the agent API, GraphQL storages, a
secrets service). The corpus keeps the override shapes but replaces every remote call with
local, in-memory state, so that the classes run anywhere with nothing but dagster installed.

Only the stdlib and dagster are imported here: these modules are also imported inside workers
running other dagster versions.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from dagster import Field, Map
from dagster._core.launcher import RunLauncher
from dagster._core.secrets import SecretsLoader
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log import InMemoryEventLogStorage
from dagster._core.storage.runs import InMemoryRunStorage
from dagster._serdes import ConfigurableClass, ConfigurableClassData


class LocalStateRunLauncher(RunLauncher):
    """A run launcher that records what it is asked to do instead of starting run workers.

    Models the launchers dagster-cloud's agent instance swaps in (they submit work to the agent
    API); here the "remote" side is a dict. It claims to support resuming runs so that the base
    class's run-monitoring set-up (which asks ``self.run_launcher.supports_resume_run`` when
    ``max_resume_run_attempts > 0``) accepts it.
    """

    def __init__(self, *, created_during_base_init: bool = False):
        super().__init__()
        self.created_during_base_init = created_during_base_init
        self.launched: dict[str, str] = {}
        self.resumed: dict[str, int] = {}
        self.terminated: list[str] = []
        self.disposed = False

    def launch_run(self, context) -> None:
        run = context.dagster_run
        self.launched[run.run_id] = run.job_name

    def resume_run(self, context) -> None:
        run = context.dagster_run
        self.resumed[run.run_id] = context.resume_attempt_number or 0

    def terminate(self, run_id: str) -> bool:
        self.terminated.append(run_id)
        return True

    @property
    def supports_resume_run(self) -> bool:
        return True

    def dispose(self) -> None:
        self.disposed = True

    # usable as a context manager, like the user code launchers dagster-cloud enters into an
    # ExitStack
    def __enter__(self) -> "LocalStateRunLauncher":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.dispose()


class DictSecretsLoader(SecretsLoader, ConfigurableClass):
    """A secrets loader backed by a dict (dagster-cloud fetches secrets from its API).

    ``secrets`` maps a code location name (``""`` for "no location") to its variables. It is
    configurable from yaml (``secrets: custom: ...``) as well as buildable directly.
    """

    def __init__(
        self,
        secrets: Optional[Mapping[str, Mapping[str, str]]] = None,
        inst_data: Optional[ConfigurableClassData] = None,
    ):
        super().__init__()
        self._secrets = {k: dict(v) for k, v in (secrets or {}).items()}
        self._inst_data = inst_data
        self.requests: list[Optional[str]] = []
        self.disposed = False

    @property
    def inst_data(self) -> Optional[ConfigurableClassData]:
        return self._inst_data

    @classmethod
    def config_type(cls):
        return {"secrets": Field(Map(str, Map(str, str)), is_required=False, default_value={})}

    @classmethod
    def from_config_value(cls, inst_data, config_value: Mapping[str, Any]) -> "DictSecretsLoader":
        return cls(secrets=config_value.get("secrets") or {}, inst_data=inst_data)

    def get_secrets_for_environment(self, location_name: Optional[str]) -> Mapping[str, str]:
        self.requests.append(location_name)
        return dict(self._secrets.get(location_name or "", {}))

    def dispose(self) -> None:
        self.disposed = True


class InMemoryStorage(DagsterStorage, ConfigurableClass):
    """Unified storage holding in-memory run and event-log storages and no schedule storage.

    Lets a ``dagster.yaml`` (``storage: custom: ...``) describe the same in-memory storages that
    ``DagsterInstance.ephemeral()`` builds directly; the stock in-memory run storage is not
    configurable from yaml on its own.
    """

    def __init__(self, inst_data=None):
        super().__init__()
        self._inst_data = inst_data
        self._run_storage = InMemoryRunStorage()
        self._event_log_storage = InMemoryEventLogStorage()

    @property
    def inst_data(self):
        return self._inst_data

    @classmethod
    def config_type(cls):
        return {}

    @classmethod
    def from_config_value(cls, inst_data, config_value: Mapping[str, Any]) -> "InMemoryStorage":
        return cls(inst_data=inst_data)

    @property
    def event_log_storage(self):
        return self._event_log_storage

    @property
    def run_storage(self):
        return self._run_storage

    @property
    def schedule_storage(self):
        return None

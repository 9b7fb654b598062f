"""Downstream packages: which release of each goes with a dagster, and its wheel, unpacked.

The ecosystem check reads released packages that subclass dagster classes (dagster-cloud, the
storages of dagster-postgres, the launchers of dagster-k8s...) from their wheels only: nothing is
installed or imported. dagster's integration packages are versioned `0.(minor+16).patch` beside
dagster `1.minor.patch` and dagster-cloud shares dagster's version; when that exact release is not
on the index, the newest release not newer than it is taken (pip's own `<=`, final releases only).

Wheels are fetched with `pip download --no-deps` (pip run by uv: :func:`compat.envs.pip_command`),
kept in the cache and unpacked once into a directory named by the wheel's sha256, so everything
read from it (profiles, see :mod:`compat.tools.ecosystem`) can be cached by that hash too.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import StrictStr

from compat import tempdirs
from compat.envs import build_once, cache_dir, locked, pip_command, uv_environ
from compat.model import jsonio, schemas
from compat.model.errors import CompatError

# dagster-cloud and the released integration packages with classes that subclass dagster's
# (storages, run launchers and coordinators, compute log managers, IO managers, resources)
DEFAULT_PACKAGES = (
    "dagster-cloud",
    "dagster-postgres",
    "dagster-mysql",
    "dagster-k8s",
    "dagster-docker",
    "dagster-aws",
    "dagster-celery",
    "dagster-celery-k8s",
    "dagster-celery-docker",
    "dagster-gcp",
    "dagster-azure",
    "dagster-dask",
    "dagster-snowflake",
    "dagster-duckdb",
)
# packages released with dagster's own version number; the others are 0.(minor+16).patch
SAME_VERSION = {"dagster-cloud", "dagster-pipes", "dagster-shared", "dagster-graphql", "dagster-webserver"}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
WHEEL_SCHEMA = "compat.downstream-wheel"


class WheelRecord(schemas._Open):
    """The cache's record of one fetched wheel (`<cache>/downstream/<name>-<version>.json`)."""

    package: StrictStr
    version: StrictStr
    wheel: StrictStr
    sha256: StrictStr


@dataclass(frozen=True)
class Wheel:
    package: str  # distribution name as asked
    version: str  # the release fetched
    sha256: str  # of the wheel file
    tree: Path  # where it is unpacked (a static search path)
    wanted: str  # the release that matches the side's dagster

    @property
    def label(self) -> str:
        return f"{self.package} {self.version}"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise CompatError(f"--packages {name!r}: not a package name")
    return name


def matching_version(package: str, dagster_version: str) -> str:
    """The release of `package` that goes with dagster `dagster_version`: 1.11.4 -> 0.27.4."""
    parts = dagster_version.split(".")
    if len(parts) < 3 or not all(p.isdigit() for p in parts[:3]) or parts[0] != "1":
        raise CompatError(f"dagster {dagster_version}: not a 1.x.y release, so no downstream release matches it")
    if package in SAME_VERSION:
        return ".".join(parts[:3])
    return f"0.{int(parts[1]) + 16}.{parts[2]}"


def _pip(args: list[str], what: str, timeout: float = 300) -> str:
    try:
        proc = subprocess.run([*pip_command(), *args, "--disable-pip-version-check"], env=uv_environ(),
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise CompatError(f"{what}: pip timed out after {timeout:.0f}s") from None
    except OSError as exc:
        raise CompatError(f"{what}: cannot run pip ({exc.strerror})") from None
    if proc.returncode != 0:
        last = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        raise CompatError(f"{what}: {last[-1].strip() if last else f'pip exit {proc.returncode}'}")
    return proc.stdout


def _record_path(package: str, version: str) -> Path:
    return cache_dir() / "downstream" / f"{package}-{version}.json"


def _read_record(path: Path) -> WheelRecord | None:
    if not path.exists():
        return None
    data = jsonio.read_json(path, schema=WHEEL_SCHEMA, versions=(1,))
    return schemas.check(WheelRecord, data, path)


def _download(package: str, version: str) -> WheelRecord:
    """Fetch the newest wheel not newer than `version` into the cache and record its hash, under
    `version` (under a lock: one download per release). One `pip download "NAME<=VERSION"` both
    takes the exact release and falls back to the one before it."""
    path = _record_path(package, version)
    with locked(f"downstream-{package}-{version}"):
        record = _read_record(path)
        if record is not None and (path.parent / record.wheel).is_file():
            return record
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempdirs.make(f".download-{package}-{version}.", path.parent)  # a killed run's is swept
        try:
            _pip(["download", "--quiet", "--no-deps", "--only-binary", ":all:", "--dest", str(tmp), f"{package}<={version}"],
                 f"cannot fetch {package}<={version}")
            wheels = sorted(tmp.glob("*.whl"))
            if len(wheels) != 1:
                raise CompatError(f"cannot fetch {package}=={version}: expected one wheel, got {len(wheels)}")
            digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
            os.replace(wheels[0], path.parent / wheels[0].name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        got = wheels[0].name.split("-")[1]  # name-version-python-abi-platform.whl
        record = WheelRecord(package=package, version=got, wheel=wheels[0].name, sha256=digest)
        jsonio.write_json(path, {"schema": WHEEL_SCHEMA, "schema_version": 1, **record.model_dump()})
        return record


def _unpack(record: WheelRecord) -> Path:
    dest = cache_dir() / "downstream" / "trees" / record.sha256[:32]

    def fill(tmp: Path) -> str:
        wheel = cache_dir() / "downstream" / record.wheel
        if hashlib.sha256(wheel.read_bytes()).hexdigest() != record.sha256:
            raise CompatError(f"{wheel}: does not match its recorded sha256; delete it to fetch it again")
        try:
            with zipfile.ZipFile(wheel) as zf:
                for info in zf.infolist():
                    target = (tmp / info.filename).resolve()
                    if not str(target).startswith(str(tmp.resolve()) + os.sep):
                        raise CompatError(f"{wheel}: member {info.filename} points outside the wheel")
                zf.extractall(tmp)
        except zipfile.BadZipFile:
            raise CompatError(f"{wheel}: not a wheel (bad zip); delete it to fetch it again") from None
        return f"{record.package}=={record.version} {record.sha256}\n"

    return build_once(dest, f"downstream-tree-{record.sha256[:32]}", fill)


def fetch(package: str, dagster_version: str) -> Wheel:
    """The release of `package` that goes with `dagster_version`, unpacked (cached). The release
    taken is remembered, so a warm run asks the index nothing (a later release at or before the
    wanted one is only seen once the cache's record is deleted)."""
    check_name(package)
    wanted = matching_version(package, dagster_version)
    record = _read_record(_record_path(package, wanted))
    if record is None or not (_record_path(package, wanted).parent / record.wheel).is_file():
        record = _download(package, wanted)
    return Wheel(package=package, version=record.version, sha256=record.sha256, tree=_unpack(record), wanted=wanted)


__all__ = ["DEFAULT_PACKAGES", "Wheel", "fetch", "matching_version"]

"""Downstream packages: which release of each goes with a dagster, and its wheel, unpacked.

The ecosystem check reads released packages that subclass dagster classes (dagster-cloud, the
storages of dagster-postgres, the launchers of dagster-k8s...) from their wheels (or sdists) only:
nothing is installed, built or imported. dagster's integration packages are versioned
`0.(minor+16).patch` beside dagster `1.minor.patch` and dagster-cloud shares dagster's version;
when that exact release is not on the index, the newest final release not newer than it is taken.
A package released on its own schedule (most of the index's `dagster-*` packages and the others
that depend on dagster) is taken as its users had it: the newest release uploaded while that
dagster was the newest one (before the next dagster release's upload time).

`compat ecosystem --all` reads every package of the list shipped beside this module
(`downstream-packages.json`: each name with how its releases follow dagster's); `compat
ecosystem-index --refresh` rebuilds it from the index. Under `--all` a package that cannot be
fetched or unpacked (no release for that dagster, no wheel or sdist, a bad archive) is a row with
the reason (:class:`Unavailable`), never the end of the run.

Files are chosen from the index's simple JSON API (PEP 691: each file with its upload time and
sha256), one request per package, which is what pip reads too; pip itself is not run, since it
would build an sdist to read its metadata and takes seconds per package where a request takes a
fraction of one. Each file is kept in the cache, checked against the index's sha256 and unpacked
once into a directory named by that hash, so everything read from it (profiles, see
:mod:`compat.tools.ecosystem`) can be cached by that hash too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from packaging import tags
from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import StrictStr

from compat import tempdirs
from compat.envs import build_once, cache_dir, locked
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
LIST_SCHEMA = "compat.downstream-packages"
CUTOFF_SCHEMA = "compat.downstream-cutoff"
GONE_SCHEMA = "compat.downstream-unavailable"
PACKAGES_FILE = Path(__file__).with_name("downstream-packages.json")
DEFAULT_INDEX = "https://pypi.org/simple"
# how a package's releases follow dagster's: `same` version as dagster (dagster-cloud), the
# `integration` packages' 0.(minor+16).patch, or `dated`: whatever it released while that dagster
# was the newest
SCHEMES = ("same", "integration", "dated")
_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


class Unavailable(CompatError):
    """A package (or its release for a dagster) that cannot be had from the index or unpacked:
    a row of an `--all` run, not the end of it."""


class Gone(Unavailable):
    """The index answered that it has no such project (404 or 410): not a fault of the network."""


class ListedPackage(schemas._Open):
    name: StrictStr
    release: Literal["same", "integration", "dated"]


class PackageList(schemas._Open):
    """The shipped list (`downstream-packages.json`): every package `--all` checks."""

    index: StrictStr
    packages: list[ListedPackage]


class GoneRecord(schemas._Open):
    """A package the index has no file of for a dagster release (`<name>-<key>.unavailable.json`)."""

    package: StrictStr
    why: StrictStr


class CutoffRecord(schemas._Open):
    dagster: StrictStr
    successor: StrictStr | None
    cutoff: StrictStr | None


class WheelRecord(schemas._Open):
    """The cache's record of one fetched wheel or sdist (`<cache>/downstream/<name>-<version>.json`;
    `wheel` is the file's name either way)."""

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


def normalize(name: str) -> str:
    """The index's name for a distribution (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=4)
def read_list(path: Path = PACKAGES_FILE) -> PackageList:
    data = jsonio.read_json(path, schema=LIST_SCHEMA, versions=(1,))
    parsed = schemas.check(PackageList, data, path, hint="refresh it with `compat ecosystem-index --refresh`")
    names = [normalize(p.name) for p in parsed.packages]
    if len(set(names)) != len(names):
        raise CompatError(f"{path}: a package is listed twice")
    return parsed


def listed_packages() -> list[str]:
    """Every package `--all` checks, in the list's order (sorted by name)."""
    return [p.name for p in read_list().packages]


def scheme(package: str) -> str:
    """How `package`'s releases follow dagster's (see :data:`SCHEMES`): the shipped list's word;
    a package not on it is dagster-cloud's kind or an integration package's, as before the list."""
    for p in read_list().packages:
        if normalize(p.name) == normalize(package):
            return p.release
    return "same" if package in SAME_VERSION else "integration"


def matching_version(package: str, dagster_version: str) -> str:
    """The release of `package` that goes with dagster `dagster_version`: 1.11.4 -> 0.27.4."""
    parts = dagster_version.split(".")
    if len(parts) < 3 or not all(p.isdigit() for p in parts[:3]) or parts[0] != "1":
        raise CompatError(f"dagster {dagster_version}: not a 1.x.y release, so no downstream release matches it")
    if package in SAME_VERSION or scheme(package) == "same":
        return ".".join(parts[:3])
    return f"0.{int(parts[1]) + 16}.{parts[2]}"


def classify(version: str, dagster_version: str) -> str:
    """The scheme a package follows, from its newest release and dagster's newest: dagster's
    major.minor is `same`, 0.(minor+16) is `integration`, anything else `dated`."""
    try:
        v, d = Version(version), Version(dagster_version)
    except InvalidVersion:
        return "dated"
    if len(d.release) < 2:
        return "dated"
    if v.release[:2] == d.release[:2]:
        return "same"
    if v.release[:2] == (0, d.release[1] + 16):
        return "integration"
    return "dated"


def index_url() -> str:
    """The index pip and uv are told to use, else PyPI's."""
    for var in ("PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        if os.environ.get(var):
            return os.environ[var].rstrip("/")
    return DEFAULT_INDEX


def simple_page(project: str | None, index: str | None = None, timeout: float = 60) -> dict:
    """The index's simple JSON page (PEP 691) of `project`, or of the whole index (None)."""
    base = (index or index_url()).rstrip("/")
    url = f"{base}/" if project is None else f"{base}/{normalize(project)}/"
    # the root listing may come as HTML (PEP 503) even when JSON is asked for: PyPI's does
    accept = _SIMPLE_JSON if project is not None else f"{_SIMPLE_JSON}, text/html;q=0.1"
    req = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the index's URL
            kind = resp.headers.get("Content-Type", "")
            body = resp.read()
    except urllib.error.HTTPError as exc:
        raise (Gone if exc.code in (404, 410) else Unavailable)(f"{url}: the index answered {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise Unavailable(f"{url}: cannot reach the index ({getattr(exc, 'reason', exc)})") from None
    if project is None and kind.split(";", 1)[0].strip() == "text/html":
        return {"projects": [{"name": n} for n in _html_project_names(body)]}
    if _SIMPLE_JSON not in kind:
        raise Unavailable(f"{url}: the index does not serve the simple JSON API (got {kind or 'no type'})")
    try:
        data = json.loads(body)
    except ValueError:
        raise Unavailable(f"{url}: not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("files" if project else "projects"), list):
        raise Unavailable(f"{url}: not a simple JSON page")
    return data


class _Anchors(HTMLParser):
    """The text of every anchor of a PEP 503 root listing: one project name each."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._in_a = False

    def handle_starttag(self, tag, attrs) -> None:
        self._in_a = tag == "a"

    def handle_endtag(self, tag) -> None:
        self._in_a = False

    def handle_data(self, data) -> None:
        if self._in_a and data.strip():
            self.names.append(data.strip())


def _html_project_names(body: bytes) -> list[str]:
    parser = _Anchors()
    parser.feed(body.decode("utf-8", "replace"))
    parser.close()
    return parser.names


def _file_version(project: str, filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return version if normalize(str(name)) == normalize(project) else None


def release_times(page: dict, project: str) -> dict[Version, str]:
    """Each final release of the page with the earliest upload time of its files."""
    out: dict[Version, str] = {}
    for f in page["files"]:
        if not isinstance(f, dict) or not isinstance(f.get("filename"), str) or f.get("yanked"):
            continue
        v = _file_version(project, f["filename"])
        when = f.get("upload-time")
        if v is None or v.is_prerelease or v.is_devrelease or not isinstance(when, str):
            continue
        out[v] = min(out.get(v, when), when)
    return out


def cutoff(dagster_version: str) -> str | None:
    """When dagster `dagster_version` stopped being the newest: the upload time of the next
    release (None while it is the newest). Asked of the index once per version, then cached."""
    path = cache_dir() / "downstream" / f"cutoff-dagster-{dagster_version}.json"
    if path.exists():
        data = jsonio.read_json(path, schema=CUTOFF_SCHEMA, versions=(1,))
        return schemas.check(CutoffRecord, data, path).cutoff
    times = release_times(simple_page("dagster"), "dagster")
    mine = Version(dagster_version)
    if mine not in times:
        raise CompatError(f"dagster {dagster_version}: not a release the index has, so no dated release matches it")
    later = sorted(v for v in times if v > mine)
    record = CutoffRecord(dagster=dagster_version, successor=str(later[0]) if later else None,
                          cutoff=times[later[0]] if later else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    jsonio.write_json(path, {"schema": CUTOFF_SCHEMA, "schema_version": 1, **record.model_dump()})
    return record.cutoff


def _record_path(package: str, version: str) -> Path:
    return cache_dir() / "downstream" / f"{package}-{version}.json"


def _read_record(path: Path) -> WheelRecord | None:
    if not path.exists():
        return None
    data = jsonio.read_json(path, schema=WHEEL_SCHEMA, versions=(1,))
    return schemas.check(WheelRecord, data, path)


@functools.lru_cache(maxsize=1)
def _supported_tags() -> frozenset:
    return frozenset(tags.sys_tags())


def _choose(package: str, page: dict, before: str | None, at_most: Version | None) -> dict:
    """The file to read of the newest final release not newer than `at_most` whose files were
    uploaded before `before`: a wheel this interpreter could install, else the sdist."""
    by_version: dict[Version, list[dict]] = {}
    for f in page["files"]:
        name = f.get("filename") if isinstance(f, dict) else None
        if not isinstance(name, str) or f.get("yanked"):
            continue
        v = _file_version(package, name)
        if v is None or v.is_prerelease or v.is_devrelease or (at_most is not None and v > at_most):
            continue
        when = f.get("upload-time")
        if before and (not isinstance(when, str) or when >= before):
            continue
        by_version.setdefault(v, []).append(f)
    supported = _supported_tags()
    for v in sorted(by_version, reverse=True):
        files = sorted(by_version[v], key=lambda f: f["filename"])
        wheels = [f for f in files if f["filename"].endswith(".whl")
                  and set(parse_wheel_filename(f["filename"])[3]) & supported]
        sdists = [f for f in files if f["filename"].endswith((".tar.gz", ".zip"))]
        if wheels or sdists:
            return (wheels or sdists)[0]
    when = f" uploaded before {before}" if before else ""
    newest = f" not newer than {at_most}" if at_most is not None else ""
    raise Unavailable(f"{package}: no release{newest}{when} with a wheel or an sdist")


def _admits(package: str, f: dict, dagster_version: str) -> bool:
    """Whether the release of file `f` may be installed beside dagster `dagster_version`, read
    from the wheel's metadata file on the index (PEP 658; an sdist, or a wheel without one, is
    taken at its word)."""
    if not f["filename"].endswith(".whl") or not (f.get("core-metadata") or f.get("data-dist-info-metadata")):
        return True
    url = urllib.parse.urljoin(f"{index_url()}/{normalize(package)}/", f["url"]).split("#", 1)[0] + ".metadata"
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - the index's URL
            text = resp.read().decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise Unavailable(f"{package}: cannot read the metadata of {f['filename']} ({getattr(exc, 'reason', exc)})") from None
    spec = _requirement_in(text)
    return not spec or SpecifierSet(spec).contains(dagster_version, prereleases=True)


def _first_after(package: str, page: dict, after: str, dagster_version: str) -> dict:
    """A package first released after `after` (the next dagster's upload time): its earliest
    release that admits dagster `dagster_version`, the one its users on that dagster got first."""
    times = release_times(page, package)
    for v in sorted((v for v in times if times[v] >= after), key=lambda v: (times[v], v))[:8]:
        try:
            f = _choose(package, page, None, v)
        except Unavailable:
            continue
        if _file_version(package, f["filename"]) == v and _admits(package, f, dagster_version):
            return f
    raise Unavailable(f"{package}: no release uploaded before {after}, and none of its first releases after it "
                      f"admits dagster {dagster_version}")


def _from_index(package: str, before: str | None, at_most: Version | None, tmp: Path,
                dagster_version: str | None = None) -> Path:
    """Download the chosen file (:func:`_choose`) from the index's simple JSON page (PEP 691),
    checked against the index's sha256. An sdist is only downloaded: pip would build it to read
    its metadata, running its code; here it is unpacked and read. A dated package released only
    after `before` takes its first release that admits `dagster_version`."""
    page = simple_page(package)
    try:
        f = _choose(package, page, before, at_most)
    except Unavailable:
        if not (before and dagster_version):
            raise
        f = _first_after(package, page, before, dagster_version)
    digest = (f.get("hashes") or {}).get("sha256")
    if not isinstance(digest, str) or not isinstance(f.get("url"), str):
        raise Unavailable(f"{package}: the index gives {f['filename']} no sha256 or URL")
    url = urllib.parse.urljoin(f"{index_url()}/{normalize(package)}/", f["url"])
    dest = tmp / Path(f["filename"]).name
    try:
        with urllib.request.urlopen(url, timeout=300) as resp, open(dest, "wb") as out:  # noqa: S310
            shutil.copyfileobj(resp, out)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise Unavailable(f"{package}: cannot download {f['filename']} ({getattr(exc, 'reason', exc)})") from None
    if hashlib.sha256(dest.read_bytes()).hexdigest() != digest:
        raise Unavailable(f"{package}: {f['filename']} does not match the index's sha256")
    return dest


def _download(package: str, version: str, *, before: str | None = None, key: str | None = None,
              dagster_version: str | None = None) -> WheelRecord:
    """Fetch the newest release not newer than `version` into the cache and record its hash,
    under `version` (under a lock: one download per release): the exact release, or the one
    before it when the index lacks it. With `before` (a dated package), the newest release
    uploaded before that time instead, recorded under `key`. A wheel when the release has one
    for this interpreter, else its sdist. A package the index cannot give is recorded as such
    (:func:`unavailable`), so a warm run asks again only after that record is deleted."""
    record_key = key or version
    path = _record_path(package, record_key)
    with locked(f"downstream-{package}-{record_key}"):
        record = _read_record(path)
        if record is not None and (path.parent / record.wheel).is_file():
            return record
        gone = _gone_path(package, record_key)
        if gone.exists():
            data = jsonio.read_json(gone, schema=GONE_SCHEMA, versions=(1,))
            raise Unavailable(schemas.check(GoneRecord, data, gone).why)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempdirs.make(f".download-{package}-{record_key}.", path.parent)  # a killed run's is swept
        try:
            try:
                got_file = _from_index(package, before, None if key else Version(version), tmp, dagster_version)
            except Unavailable as exc:
                if str(exc).startswith(f"{package}: no release"):  # the index's answer, not a network fault
                    jsonio.write_json(gone, {"schema": GONE_SCHEMA, "schema_version": 1, "package": package,
                                             "why": str(exc)})
                raise
            got = _file_version(package, got_file.name)
            digest = hashlib.sha256(got_file.read_bytes()).hexdigest()
            os.replace(got_file, path.parent / got_file.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        record = WheelRecord(package=package, version=str(got), wheel=got_file.name, sha256=digest)
        jsonio.write_json(path, {"schema": WHEEL_SCHEMA, "schema_version": 1, **record.model_dump()})
        return record


def _gone_path(package: str, key: str) -> Path:
    return cache_dir() / "downstream" / f"{package}-{key}.unavailable.json"


def _safe_members(names: list[str], tmp: Path, archive: Path) -> None:
    root = str(tmp.resolve()) + os.sep
    for name in names:
        if not str((tmp / name).resolve()).startswith(root):
            raise Unavailable(f"{archive}: member {name} points outside the archive")


def _unpack(record: WheelRecord) -> Path:
    dest = cache_dir() / "downstream" / "trees" / record.sha256[:32]

    def fill(tmp: Path) -> str:
        archive = cache_dir() / "downstream" / record.wheel
        if hashlib.sha256(archive.read_bytes()).hexdigest() != record.sha256:
            raise CompatError(f"{archive}: does not match its recorded sha256; delete it to fetch it again")
        if archive.name.endswith(".whl"):
            try:
                with zipfile.ZipFile(archive) as zf:
                    _safe_members([i.filename for i in zf.infolist()], tmp, archive)
                    zf.extractall(tmp)
            except zipfile.BadZipFile:
                raise Unavailable(f"{archive}: not a wheel (bad zip); delete it to fetch it again") from None
        else:
            _unpack_sdist(archive, tmp)
        return f"{record.package}=={record.version} {record.sha256}\n"

    return build_once(dest, f"downstream-tree-{record.sha256[:32]}", fill)


def _unpack_sdist(archive: Path, tmp: Path) -> None:
    """An sdist's python packages moved to the top of `tmp`, as a wheel lays them out: from its
    `src/` when it has one, else from its top directory. Only regular files and directories are
    taken (tarfile's `data` filter); nothing is built or run."""
    raw = tmp / ".sdist"
    raw.mkdir()
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                _safe_members(zf.namelist(), raw, archive)
                zf.extractall(raw)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(raw, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise Unavailable(f"{archive}: cannot unpack the sdist ({exc})") from None
    tops = [p for p in raw.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise Unavailable(f"{archive}: an sdist with {len(tops)} top directories")
    top = tops[0]
    roots = [top / "src", top] if (top / "src").is_dir() else [top]
    moved = 0
    for root in roots:
        for p in sorted(root.iterdir()):
            if p.is_dir() and (p / "__init__.py").is_file() and p.name.isidentifier() and p.name not in ("tests", "test"):
                if not (tmp / p.name).exists():
                    shutil.move(str(p), tmp / p.name)
                    moved += 1
    shutil.rmtree(raw)
    if not moved:
        raise Unavailable(f"{archive}: the sdist holds no python package")


def fetch(package: str, dagster_version: str) -> Wheel:
    """The release of `package` that goes with `dagster_version`, unpacked (cached). The release
    taken is remembered, so a warm run asks the index nothing (a later release at or before the
    wanted one is only seen once the cache's record is deleted). A dated package's release is the
    newest uploaded before the next dagster release (`wanted` says which dagster it was for)."""
    check_name(package)
    if scheme(package) == "dated":
        key = f"for-dagster-{dagster_version}"
        record = _read_record(_record_path(package, key))
        if record is None or not (_record_path(package, key).parent / record.wheel).is_file():
            record = _download(package, "", before=cutoff(dagster_version), key=key, dagster_version=dagster_version)
        wanted = f"as of dagster {dagster_version}"
    else:
        wanted = matching_version(package, dagster_version)
        record = _read_record(_record_path(package, wanted))
        if record is None or not (_record_path(package, wanted).parent / record.wheel).is_file():
            record = _download(package, wanted)
    return Wheel(package=package, version=record.version, sha256=record.sha256, tree=_unpack(record), wanted=wanted)


def dagster_requirement(wheel: Wheel) -> str | None:
    """The release's own requirement on dagster (`>=1.10,<1.12`), from its wheel's METADATA;
    None when it names none (or it is an sdist, whose metadata is not read)."""
    for meta in sorted(wheel.tree.glob("*.dist-info/METADATA")):
        spec = _requirement_in(meta.read_text(encoding="utf-8", errors="replace"))
        if spec is not None:
            return spec
    return None


def _requirement_in(metadata: str) -> str | None:
    """The dagster requirement of a METADATA text (unconditional ones only)."""
    for line in metadata.splitlines():
        if not line.startswith("Requires-Dist:"):
            if not line.strip():
                break  # the headers end at the first blank line
            continue
        try:
            req = Requirement(line.partition(":")[2].strip())
        except InvalidRequirement:
            continue
        if normalize(req.name) == "dagster" and not req.marker:
            return str(req.specifier)
    return None


def made_for(wheel: Wheel, dagster_version: str) -> str | None:
    """Why the release is not one a user of `dagster_version` could have installed (its
    requirement on dagster excludes it), or None."""
    spec = dagster_requirement(wheel)
    if not spec:
        return None
    if SpecifierSet(spec).contains(dagster_version, prereleases=True):
        return None
    return f"{wheel.label} requires dagster{spec}, not {dagster_version}: no release of it was made for that dagster"


def refresh_list(index: str | None = None, *, keep: PackageList | None = None,
                 progress=lambda _m: None) -> PackageList:
    """The list rebuilt from the index: every project whose name holds `dagster` (dagster's own
    distributions left out), each with the scheme its newest release shows; names of `keep` that
    do not hold `dagster` (packages that depend on dagster under another name, added by hand) stay."""
    index = (index or index_url()).rstrip("/")
    own = {"dagster", "dagster-pipes", "dagster-shared"}
    projects = simple_page(None, index)["projects"]
    names = sorted({normalize(p["name"]) for p in projects if isinstance(p, dict) and isinstance(p.get("name"), str)
                    and "dagster" in normalize(p["name"])} - own)
    names += sorted({normalize(p.name) for p in (keep.packages if keep else [])
                     if "dagster" not in normalize(p.name)} - own)
    dagster = release_times(simple_page("dagster", index), "dagster")
    if not dagster:
        raise CompatError(f"{index}: the index has no dagster release")
    newest_dagster = str(max(dagster))
    out = []
    for name in sorted(names):
        progress(f"reading {name}'s releases")
        try:
            times = release_times(simple_page(name, index), name)
        except Gone:
            continue  # listed in the index's names but gone since: nothing to check
        # any other fault (the network, a server error) ends the refresh: skipping the project would
        # drop it from the list by chance, and the list would depend on the day's network
        if not times:
            continue
        out.append(ListedPackage(name=name, release=classify(str(max(times)), newest_dagster)))
    return PackageList(index=index, packages=out)


def write_list(packages: PackageList, path: Path = PACKAGES_FILE) -> Path:
    return jsonio.write_json(path, {"schema": LIST_SCHEMA, "schema_version": 1, "index": packages.index,
                                    "packages": [p.model_dump() for p in packages.packages]}, 2)


__all__ = ["DEFAULT_PACKAGES", "Unavailable", "Wheel", "fetch", "listed_packages", "matching_version", "refresh_list",
           "write_list"]

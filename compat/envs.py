"""Environments for other dagster versions: wheel trees for static loading, venvs for workers.

A SPEC names a dagster: ``dagster==X`` (a released version), a path to a python interpreter,
or a path to a dagster source tree. Everything built here lives in a cache directory outside
the repository (``$COMPAT_CACHE_DIR``, else the user's own cache directory) and is reused; a file lock
makes concurrent builders (xdist workers, parallel CI jobs) wait for one another.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import inspect
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from compat import tempdirs
from compat.model.errors import CompatError

VERSION_RE = re.compile(r"^\d+(\.\d+)*([a-z]+\d*)?(\.post\d+)?(\.dev\d+)?$")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# what every worker environment needs besides dagster: coverage measures what the behaviour
# scenarios execute of the target (`compat coverage`), in whichever dagster version runs them
WORKER_REQUIREMENTS = ("coverage>=7.6",)


_FALLBACK: list[Path] = []


def default_cache_dir() -> Path:
    """This user's cache of the harness: the platform's per-user cache directory
    (``$XDG_CACHE_HOME/compat`` or ``~/.cache/compat`` on Linux). Never a shared temp dir: a
    cache under the world-writable temp dir is one another user can plant interpreters in."""
    try:
        import platformdirs
    except ImportError:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
        return root / "compat"
    return Path(platformdirs.user_cache_dir("compat", appauthor=False))


def check_owned(path: Path) -> None:
    """A cache directory the harness may run code from: a directory (not a link) owned by this
    user and writable by nobody else. Anything else is refused in one line."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise CompatError(f"cache {path}: is not a directory (a link or a file); refusing to use it")
    if st.st_uid != os.getuid():
        raise CompatError(f"cache {path}: owned by another user (uid {st.st_uid}); refusing to run anything from it "
                          "(set COMPAT_CACHE_DIR to a directory of your own)")
    if st.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
        raise CompatError(f"cache {path}: writable by others (mode {stat.S_IMODE(st.st_mode):o}); refusing to run "
                          f"anything from it (chmod go-w {path}, or set COMPAT_CACHE_DIR)")


def cache_dir() -> Path:
    """This user's cache (``$COMPAT_CACHE_DIR``, else :func:`default_cache_dir`), created mode
    0700 and refused when another user owns it or others may write it. When it cannot be
    created (a read-only home), a cache of this run's own in the temp dir: a missing cache
    costs speed, never the run."""
    base = os.environ.get("COMPAT_CACHE_DIR") or str(default_cache_dir())
    path = Path(base)
    if os.path.lexists(path):
        check_owned(path)  # before anything is read from it, or a run falls back past it silently
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        usable = os.access(path, os.W_OK)
    except OSError:
        usable = False
    if usable:
        check_owned(path)
        return path
    if not _FALLBACK:
        own = tempdirs.make("compat-cache-run-")
        atexit.register(shutil.rmtree, own, True)
        print(f"[compat] cache {path} cannot be written; using {own} for this run", file=sys.stderr)
        _FALLBACK.append(own)
    return _FALLBACK[0]


def keep_hypothesis_cache() -> None:
    """Hypothesis keeps a constants cache in `.hypothesis/` of the working directory (a recording
    run from a repository root wrote one there): a run of the harness keeps it in our cache."""
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(cache_dir(), "hypothesis"))


def uv_bin() -> str:
    """The uv executable: the one shipped with the `uv` package, else the one on PATH."""
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return find_uv_bin()
    except Exception:
        found = shutil.which("uv")
        if not found:
            raise CompatError("uv is not installed; run `pip install uv`") from None
        return found


def pip_command() -> list[str]:
    """pip, run by uv in a throwaway environment of uv's cache. The harness's own venv may be an
    unseeded `uv venv` without pip, and uv has no `download` or `index versions` of its own, so
    the two commands that need pip (fetching a downstream wheel, listing releases) never ask the
    harness's interpreter for it. Run it with :func:`uv_environ`."""
    return [uv_bin(), "tool", "run", "--quiet", "--from", "pip", "pip"]


@contextlib.contextmanager
def environ(**changes: str | None):
    """``os.environ`` with these variables set (None: unset) for the block, then as it was: what
    the processes started inside it inherit."""
    saved = {k: os.environ.get(k) for k in changes}
    for key, value in changes.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def locked(name: str):
    """Hold an exclusive lock on ``<cache>/<name>.lock`` while building something shared."""
    lock_path = cache_dir() / f"{name}.lock"
    try:  # never through a link: a planted one would truncate or create the file it names
        fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise CompatError(f"cache lock {lock_path}: cannot open it ({exc.strerror or exc}; "
                          "a symbolic link is refused)") from None
    with os.fdopen(fd, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_once(dest: Path, lock: str, fill: Callable[[Path], str]) -> Path:
    """`dest`, built once: `fill(tmp)` fills a temp dir beside it under the lock `lock`, and the
    dir is renamed into place whole, so concurrent runs build it once and a killed one leaves
    nothing half-built at `dest` (its temp dir, owned by a dead pid, is swept by the next run).
    `fill` returns the text `.complete` records."""
    if (dest / ".complete").exists():
        return dest
    with locked(lock):
        if (dest / ".complete").exists():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempdirs.make(f".{dest.name}.", dest.parent)
        try:
            marker = fill(tmp)
            (tmp / tempdirs.OWNER).unlink()
            (tmp / ".complete").write_text(marker)
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def uv_environ() -> dict[str, str]:
    """The environment for uv (and the pip it runs): its caches live with ours, not in the user's
    home directory."""
    env = dict(os.environ)
    env.setdefault("UV_NO_PROGRESS", "1")
    env.setdefault("UV_CACHE_DIR", str(cache_dir() / "uv"))
    env.setdefault("PIP_CACHE_DIR", str(cache_dir() / "pip"))
    return env


def _run_uv(args: list[str], what: str, timeout: float = 900) -> None:
    env = uv_environ()
    try:
        proc = tempdirs.run(
            [uv_bin(), *args], capture_output=True, text=True, timeout=timeout, env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise CompatError(f"{what}: uv timed out after {int(timeout)}s (is the package index reachable?)") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        reason = _summarize_uv_error(lines)
        raise CompatError(f"{what}: {reason}")


def _summarize_uv_error(lines: list[str]) -> str:
    text = " ".join(lines)
    if re.search(r"no (solution|version)|not found in the package registry|was not found", text, re.I):
        for ln in lines:
            if "Because" in ln or "not found" in ln or "No solution" in ln:
                return ln.lstrip("×╰─▶ ").strip()
    if re.search(r"(dns|connect|network|offline|failed to fetch|Could not connect|timed out)", text, re.I):
        return "cannot reach the package index (no network?): " + (lines[-1] if lines else "")
    return lines[-1].lstrip("×╰─▶ ").strip() if lines else "uv failed"


# --- what the harness's workers need, brought to an interpreter that lacks it ----------------------
_WORKER_IMPORTS = {"coverage": "coverage"}  # requirement name -> the module a worker imports

_HAS_MODULES = ("import importlib.util, json, sys\n"
                "print(json.dumps([m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]))\n")


def _worker_pins() -> list[str]:
    """WORKER_REQUIREMENTS as this interpreter has them (`coverage==7.x`): a foreign interpreter's
    workers run the same coverage.py as the harness's own; the requirement itself where it has none."""
    from importlib import metadata

    from packaging.requirements import Requirement

    pins = []
    for req in WORKER_REQUIREMENTS:
        name = Requirement(req).name
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(req)
    return pins


_OVERLAYS: dict[str, list[str]] = {}


def worker_overlay(python: str) -> list[str]:
    """What to put on the path of ``python``'s workers besides the harness's code: nothing when it
    holds what the workers import (coverage), else a private directory of those requirements,
    installed for that interpreter once (by its path, version and the pins) in this user's cache.
    The user's environment is never asked to hold the harness's dependencies, nor changed."""
    real = os.path.abspath(python)  # not resolved: two venvs' pythons link to one base interpreter
    if real == os.path.abspath(sys.executable):
        return []  # the harness's own interpreter: its requirements are the project's
    if real in _OVERLAYS:
        return _OVERLAYS[real]
    try:
        proc = tempdirs.run([python, "-c", _HAS_MODULES, *_WORKER_IMPORTS.values()], capture_output=True, text=True,
                            timeout=probe_timeout(), stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": ""})
        missing = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        missing = []  # an interpreter that cannot say: its workers will say why they cannot start
    if not missing:
        _OVERLAYS[real] = []
        return []
    pins = _worker_pins()
    version = tempdirs.run([python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True,
                             timeout=probe_timeout(), stdin=subprocess.DEVNULL).stdout.strip()
    key = hashlib.sha256("\0".join([real, version, *pins]).encode()).hexdigest()[:16]

    def fill(tmp: Path) -> str:
        _run_uv(["pip", "install", "--quiet", "--python", python, "--target", str(tmp / "site"), *pins],
                f"cannot bring {', '.join(pins)} to the workers of {python}")
        return f"{python}\n{version}\n" + "\n".join(pins) + "\n"

    dest = build_once(cache_dir() / "overlays" / key, f"overlay-{key}", fill)
    _OVERLAYS[real] = [str(dest / "site")]
    return _OVERLAYS[real]


def check_version(version: str) -> str:
    if not isinstance(version, str) or not VERSION_RE.fullmatch(version):
        raise CompatError(f"not a dagster version: {version!r} (expected e.g. 1.11.4)")
    return version


def wheel_tree(version: str, package: str = "dagster") -> Path:
    """Unpack the wheel of ``package==version`` (no dependencies, nothing imported or run).

    Returns a directory usable as a search path for static loading.
    """
    check_version(version)

    def fill(tmp: Path) -> str:
        _run_uv(["pip", "install", "--quiet", "--no-deps", "--no-compile", "--target", str(tmp),
                 f"{package}=={version}"], f"cannot fetch {package}=={version}")
        return f"{package}=={version}\n"

    return build_once(cache_dir() / "wheels" / f"{package}-{version}", f"wheel-{package}-{version}", fill)


@dataclass(frozen=True)
class Spec:
    """A parsed SPEC: exactly one of version, python or tree is set (a `PATH@REV` is a tree
    exported from that commit, with `rev` and `commit` saying which)."""

    text: str
    version: str | None = None
    python: str | None = None
    tree: str | None = None
    rev: str | None = None
    commit: str | None = None

    @property
    def label(self) -> str:
        if self.version:
            return f"dagster=={self.version}"
        if self.commit:
            return f"{self.rev} {self.commit[:7]}"  # as a maintainer names it: `master ed3f0ad`
        return self.python or self.tree or self.text


SPEC_HELP = (
    "a SPEC is `dagster==X` (or just X: that release's wheel), a python interpreter (the dagster it "
    "imports), a source tree (a dagster checkout, or any tree holding the target's package), "
    "`PATH@REV` (that git checkout at revision REV, exported and cached per commit), or `installed`"
)


def parse_spec(text: str) -> Spec:
    stripped = text.strip()
    m = re.match(r"^dagster\s*==\s*(.+)$", stripped)
    if m:
        return Spec(text=text, version=check_version(m.group(1).strip()))
    if re.match(r"^\d+\.\d+", stripped):
        return Spec(text=text, version=check_version(stripped))
    path = Path(text).expanduser()
    if path.is_dir():
        return Spec(text=text, tree=str(path.resolve()))
    if path.is_file() and os.access(path, os.X_OK):
        return Spec(text=text, python=str(path.absolute()))
    repo, sep, rev = text.rpartition("@")
    if sep and repo and rev and Path(repo).expanduser().is_dir():
        return checkout_spec(text, Path(repo).expanduser(), rev)
    if _is_revision_here(stripped):
        raise CompatError(f"{text}: not a SPEC; for revision {stripped} of the git checkout here, "
                          f"write `.@{stripped}` ({SPEC_HELP})")
    raise CompatError(f"{text}: not a SPEC ({SPEC_HELP})")


def _is_revision_here(text: str) -> bool:
    """Whether `text` names a commit of the git repository around the working directory (a
    maintainer writing `master` where `.@master` is meant)."""
    if not text or text.startswith("-") or "@" in text:
        return False
    try:
        _git(Path.cwd(), "rev-parse", "--verify", "--quiet", f"{text}^{{commit}}", what=text)
    except CompatError:
        return False
    return True


# --- source trees ------------------------------------------------------------------------------
def package_roots(tree: Path, package: str = "dagster") -> list[Path]:
    """The directories to put on sys.path so that `import <package>` finds the tree's package,
    first, then every sibling distribution of the tree (dagster's `python_modules/*` and
    `python_modules/libraries/*`, a `src/` layout, or the tree itself)."""
    found: list[Path] = []
    for cand in (tree, tree / "src"):
        if (cand / package).is_dir() and any((cand / package).glob("*.py")):
            found.append(cand)
    siblings: list[Path] = []
    for group in (tree / "python_modules", tree / "python_modules" / "libraries"):
        if group.is_dir():
            for sub in sorted(group.iterdir()):
                if not sub.is_dir() or sub.name == "libraries":
                    continue
                if (sub / package / "__init__.py").is_file():
                    found.append(sub)
                elif (sub / "pyproject.toml").exists() or (sub / "setup.py").exists():
                    siblings.append(sub)
    return found[:1] + siblings if found else []


def tree_search_paths(tree: Path, package: str = "dagster") -> list[str]:
    roots = package_roots(tree, package)
    if not roots:
        raise CompatError(f"{tree}: no `{package}` package found in the tree (looked in ., src/, python_modules/*)")
    return [str(r) for r in roots]


def _git(repo: Path, *args: str, what: str) -> str:
    try:
        proc = tempdirs.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise CompatError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise CompatError(f"{what}: git timed out") from None
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["git failed"])[-1]
        raise CompatError(f"{what}: {reason}")
    return proc.stdout


def checkout_spec(text: str, repo: Path, rev: str) -> Spec:
    """`PATH@REV`: the tree of commit REV of the git repository at PATH, exported once per commit
    into the cache with `git archive` (the repository itself is only read: no worktree is
    registered in it, nothing of its index or working tree changes)."""
    what = f"{text}"
    if rev.startswith("-"):
        raise CompatError(f"{text}: not a git revision")
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", what=f"{what}: no such revision").strip()

    def fill(tmp: Path) -> str:
        archive = tmp / "tree.tar"
        _git(repo, "archive", "--format=tar", "-o", str(archive), commit, what=f"{what}: cannot export")
        subprocess.run(["tar", "-xf", str(archive), "-C", str(tmp)], check=True, capture_output=True)
        archive.unlink()
        return f"{commit}\n"

    dest = build_once(cache_dir() / "checkouts" / commit, f"checkout-{commit}", fill)
    return Spec(text=text, tree=str(dest), rev=rev, commit=commit)


def git_state(tree: Path) -> str | None:
    """`branch commit` of a git working tree (`+dirty` with uncommitted edits), None elsewhere."""
    try:
        top = _git(tree, "rev-parse", "--show-toplevel", what=str(tree)).strip()
        if Path(top).resolve() != tree.resolve() and not tree.resolve().is_relative_to(Path(top).resolve()):
            return None
        branch = _git(tree, "rev-parse", "--abbrev-ref", "HEAD", what=str(tree)).strip()
        commit = _git(tree, "rev-parse", "--short=7", "HEAD", what=str(tree)).strip()
        dirty = _git(tree, "status", "--porcelain", "--untracked-files=no", what=str(tree)).strip()
    except CompatError:
        return None
    return f"{branch} {commit}" + ("+dirty" if dirty else "")


def sources_digest(h, root: Path, package: Path, skip: tuple[str, ...] = ()) -> None:
    """Feed every `.py` file under `package` into `h`, named relative to `root`, in a stable order;
    `skip`: relative paths to leave out (a name ending in `/` leaves out that folder)."""
    for file in sorted(package.rglob("*.py")):
        rel = str(file.relative_to(root))
        if any(rel == x or (x.endswith("/") and rel.startswith(x)) for x in skip):
            continue
        h.update(rel.encode() + b"\0" + file.read_bytes())


def repo_root(path: Path) -> Path | None:
    """The git work tree (or exported checkout) that holds `path`, for repository-relative paths."""
    for cand in [path, *path.parents]:
        if (cand / ".git").exists() or (cand / ".complete").is_file() and cand.parent.name == "checkouts":
            return cand
    return None


PACKAGES = ("dagster", "dagster_shared", "dagster_pipes")


def installed_search_paths() -> list[str]:
    """This interpreter's import path, as static search paths: first the directories that hold
    dagster's packages as `import` finds them (an editable checkout is found by an import hook,
    not through sys.path), then sys.path."""
    return list(dict.fromkeys(p for p in [*package_search_roots(), *sys.path] if p and os.path.isdir(p)))


def package_search_roots(packages=PACKAGES) -> list[str]:
    """This interpreter's directories holding `packages`, found as `import` would find them:
    editable installs (a checkout's `pip install -e`) are found by import hooks, not by a
    directory on sys.path. Stdlib only, since other interpreters run its source too."""
    import importlib.util
    import os

    roots = []
    for name in packages:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for loc in (spec.submodule_search_locations or []) if spec else []:
            roots.append(os.path.dirname(os.path.abspath(loc)))
    return roots


# the same lookup in another interpreter, which need not have the harness on its path
_PATHS_CODE = (inspect.getsource(package_search_roots).replace("packages=PACKAGES", "packages")
               + "import json, sys\nprint(json.dumps(package_search_roots(sys.argv[1:]) + sys.path))\n")


# seconds an interpreter may take to say where its packages are (COMPAT_PROBE_TIMEOUT overrides)
def probe_timeout() -> float:
    """COMPAT_PROBE_TIMEOUT, read when a probe runs (a bad value is one line of the command that
    needs it, never an error importing the harness, which every pytest run of the venv does)."""
    text = os.environ.get("COMPAT_PROBE_TIMEOUT") or "60"
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 < value < 86400):  # nan fails every comparison
        raise CompatError(f"COMPAT_PROBE_TIMEOUT={text!r}: expected a number of seconds above 0 and below a day")
    return value


def interpreter_paths(python: str, packages=PACKAGES) -> list[str]:
    """Where another interpreter finds `packages` (editable installs included), then its sys.path."""
    try:
        proc = tempdirs.run(
            [python, "-c", _PATHS_CODE, *packages],
            capture_output=True, text=True, timeout=probe_timeout(), stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise CompatError(f"--python {python}: no such interpreter") from None
    except PermissionError:
        raise CompatError(f"--python {python}: not executable") from None
    except subprocess.TimeoutExpired:
        raise CompatError(f"--python {python}: interpreter hung for {probe_timeout():g}s") from None
    except OSError as exc:
        raise CompatError(f"--python {python}: cannot run it ({exc.strerror})") from None
    if proc.returncode != 0:
        raise CompatError(f"--python {python}: interpreter failed to start (exit {proc.returncode})")
    try:
        paths = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise CompatError(f"--python {python}: did not report its sys.path; is it a python interpreter?") from None
    return list(dict.fromkeys(p for p in paths if p and os.path.isdir(p)))


def search_paths_for(spec: Spec) -> list[str]:
    """Where static loading should look for the dagster of this spec."""
    if spec.version:
        return [str(wheel_tree(spec.version))]
    if spec.python:
        return interpreter_paths(spec.python)
    assert spec.tree
    return tree_search_paths(Path(spec.tree))


# --- the harness's own requirements, mirrored into the environments it builds ---------------------
def harness_requirements() -> list[str]:
    """The distributions the harness's worker code requires (compat's own metadata), besides dagster."""
    from importlib import metadata

    try:
        return [r for r in metadata.requires("compat") or [] if "extra ==" not in r]
    except metadata.PackageNotFoundError:  # a source tree on sys.path without its metadata
        return []


def requirement_closure(dists: dict[str, tuple[str, list[str]]], roots: Iterable[str]) -> dict[str, str]:
    """name -> version of every installed distribution ``roots`` require, transitively, with the
    extras they ask for; markers are evaluated for this interpreter (the caller checked that the
    other one is the same minor version before trusting versions)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name as _canonical

    out: dict[str, str] = {}
    todo = [(_canonical(Requirement(r).name), frozenset(Requirement(r).extras)) for r in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen or name not in dists:
            continue
        seen.add((name, extras))
        version, requires = dists[name]
        out[name] = version
        for text in requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            wanted = [{"extra": e} for e in sorted(extras)] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in wanted):
                todo.append((_canonical(req.name), frozenset(req.extras)))
    return dict(sorted(out.items()))


OWN_DISTRIBUTIONS = ("dagster", "dagster-shared", "dagster-pipes", "compat")


def harness_pins() -> list[list[str]]:
    """What to install beside a side's dagster in every environment the harness builds, best
    first: `name==version` of every distribution the harness requires (transitively, dagster's
    requirements included) as this interpreter has them; then without dagster's requirements
    (a side's dagster may need other versions of those); then nothing.

    So a side's environment holds the same test tools, the same griffe and its colorama, as the
    venv the gate later replays in. Change-aware replay compares exactly these versions between
    a recording and a replay (see compat/behaviour/reach.py, point 5): an environment without
    them differs from the user's venv in the optional imports the start-up tries (dagster's
    `import pytest`, structlog's `import colorama`), and every cell would be replayed."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    dists: dict[str, tuple[str, list[str]]] = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name and name not in dists:
            dists[name] = (dist.version, dist.requires or [])
    roots = harness_requirements()
    tools = [r for r in roots if canonicalize_name(Requirement(r).name) not in OWN_DISTRIBUTIONS]
    tiers = []
    for wanted in (roots, tools):
        closure = requirement_closure(dists, wanted)
        tiers.append([f"{name}=={v}" for name, v in closure.items() if name not in OWN_DISTRIBUTIONS])
    return [*tiers, []]


def _env_key(spec: Spec, pins: list[str]) -> str:
    mirrored = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:8]  # the harness venv mirrored
    if spec.version:
        return f"dagster-{spec.version}-py{sys.version_info[0]}{sys.version_info[1]}-h{mirrored}"
    if spec.commit:
        return f"commit-{spec.commit}-py{sys.version_info[0]}{sys.version_info[1]}-h{mirrored}"
    digest = hashlib.sha256((spec.tree or spec.python or "").encode()).hexdigest()[:12]
    return f"tree-{digest}"


def _complete(venv: Path, py: Path) -> bool:
    """The environment was fully built, with the current worker requirements."""
    marker = venv / ".complete"
    if not (marker.exists() and py.exists()):
        return False
    lines = marker.read_text().splitlines()
    return all(req in lines for req in WORKER_REQUIREMENTS)


def python_for(spec: Spec) -> str:
    """An interpreter whose `import dagster` is the spec's dagster; builds a cached venv if needed."""
    if spec.python:
        interpreter_paths(spec.python)  # fails with a one-line reason if it is not usable
        return spec.python
    tiers = harness_pins()
    key = _env_key(spec, tiers[0])
    venv = cache_dir() / "envs" / key
    py = venv / "bin" / "python"
    if _complete(venv, py):
        return str(py)
    with locked(f"env-{key}"):
        if _complete(venv, py):
            return str(py)
        if (venv / ".complete").exists() and py.exists():  # built before a worker requirement was added
            _run_uv(["pip", "install", "--quiet", "--python", str(py), *WORKER_REQUIREMENTS],
                    f"cannot add {', '.join(WORKER_REQUIREMENTS)} to the environment for {spec.label}")
            (venv / ".complete").write_text(spec.label + "\n" + "\n".join(WORKER_REQUIREMENTS) + "\n")
            return str(py)
        if venv.exists():
            shutil.rmtree(venv)
        what = f"cannot build an environment for {spec.label}"
        _run_uv(["venv", "--quiet", "--python", sys.executable, str(venv)], what)
        if spec.version:
            reqs = [f"dagster=={spec.version}"]
        else:
            # every distribution of the tree, installed together so that their pins on one
            # another (a checkout's `1!0+dev`) resolve to the tree's own copies
            reqs = []
            for root in package_roots(Path(spec.tree or "")):
                if (root / "pyproject.toml").exists() or (root / "setup.py").exists():
                    reqs += ["-e", str(root)]
            if not reqs:
                reqs = ["-e", str(spec.tree)]
        for i, pins in enumerate(tiers):
            # where the side's dagster wants other versions than the harness has, the next tier
            # (change-aware replay then sees which versions differ, and judges them)
            try:
                _run_uv(["pip", "install", "--quiet", "--python", str(py), *reqs, *WORKER_REQUIREMENTS, *pins], what)
                break
            except CompatError:
                if i == len(tiers) - 1:
                    shutil.rmtree(venv, ignore_errors=True)
                    raise
        (venv / ".complete").write_text(spec.label + "\n" + "\n".join(WORKER_REQUIREMENTS) + "\n")
    return str(py)

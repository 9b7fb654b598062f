"""Environments for other dagster versions: wheel trees for static loading, venvs for workers.

A SPEC names a dagster: ``dagster==X`` (a released version), a path to a python interpreter,
or a path to a dagster source tree. Everything built here lives in a cache directory outside
the repository (``$COMPAT_CACHE_DIR``, else ``<tmp>/compat-cache``) and is reused; a file lock
makes concurrent builders (xdist workers, parallel CI jobs) wait for one another.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from compat.model.errors import CompatError

VERSION_RE = re.compile(r"^\d+(\.\d+)*([a-z]+\d*)?(\.post\d+)?(\.dev\d+)?$")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# what every worker environment needs besides dagster: coverage measures what the behaviour
# scenarios execute of the target (`compat coverage`), in whichever dagster version runs them
WORKER_REQUIREMENTS = ("coverage>=7.6",)


def cache_dir() -> Path:
    base = os.environ.get("COMPAT_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "compat-cache")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


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


@contextlib.contextmanager
def locked(name: str):
    """Hold an exclusive lock on ``<cache>/<name>.lock`` while building something shared."""
    lock_path = cache_dir() / f"{name}.lock"
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run_uv(args: list[str], what: str, timeout: float = 900) -> None:
    env = dict(os.environ)
    env.setdefault("UV_NO_PROGRESS", "1")
    # uv's own cache lives with ours, not in the user's home directory.
    env.setdefault("UV_CACHE_DIR", str(cache_dir() / "uv"))
    try:
        proc = subprocess.run(
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


def check_version(version: str) -> str:
    if not isinstance(version, str) or not VERSION_RE.fullmatch(version):
        raise CompatError(f"not a dagster version: {version!r} (expected e.g. 1.11.4)")
    return version


def wheel_tree(version: str, package: str = "dagster") -> Path:
    """Unpack the wheel of ``package==version`` (no dependencies, nothing imported or run).

    Returns a directory usable as a search path for static loading.
    """
    check_version(version)
    dest = cache_dir() / "wheels" / f"{package}-{version}"
    if (dest / ".complete").exists():
        return dest
    with locked(f"wheel-{package}-{version}"):
        if (dest / ".complete").exists():
            return dest
        tmp = Path(tempfile.mkdtemp(prefix=f".{package}-{version}.", dir=cache_dir()))
        try:
            _run_uv(
                ["pip", "install", "--quiet", "--no-deps", "--no-compile", "--target", str(tmp),
                 f"{package}=={version}"],
                f"cannot fetch {package}=={version}",
            )
            (tmp / ".complete").write_text(f"{package}=={version}\n")
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


@dataclass(frozen=True)
class Spec:
    """A parsed SPEC: exactly one of version, python or tree is set."""

    text: str
    version: str | None = None
    python: str | None = None
    tree: str | None = None

    @property
    def label(self) -> str:
        if self.version:
            return f"dagster=={self.version}"
        return self.python or self.tree or self.text


def parse_spec(text: str) -> Spec:
    m = re.match(r"^dagster\s*==\s*(.+)$", text.strip())
    if m:
        return Spec(text=text, version=check_version(m.group(1).strip()))
    if re.match(r"^\d+\.\d+", text.strip()):
        return Spec(text=text, version=check_version(text.strip()))
    path = Path(text).expanduser()
    if path.is_dir():
        if _dagster_package_dir(path) is None:
            raise CompatError(f"{text}: directory holds no dagster source tree (no dagster/ package found)")
        return Spec(text=text, tree=str(path.resolve()))
    if path.is_file() and os.access(path, os.X_OK):
        return Spec(text=text, python=str(path.absolute()))
    raise CompatError(
        f"{text}: not a SPEC (expected dagster==X, a python interpreter, or a dagster source tree)"
    )


def _dagster_package_dir(tree: Path) -> Path | None:
    """The directory to put on sys.path so that `import dagster` finds the tree's package."""
    for cand in (tree, tree / "python_modules" / "dagster"):
        if (cand / "dagster" / "__init__.py").is_file():
            return cand
    return None


def interpreter_paths(python: str) -> list[str]:
    """sys.path of another interpreter (for static loading from its site-packages)."""
    try:
        proc = subprocess.run(
            [python, "-c", "import json, sys; print(json.dumps(sys.path))"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise CompatError(f"--python {python}: no such interpreter") from None
    except PermissionError:
        raise CompatError(f"--python {python}: not executable") from None
    except subprocess.TimeoutExpired:
        raise CompatError(f"--python {python}: interpreter hung for 60s") from None
    except OSError as exc:
        raise CompatError(f"--python {python}: cannot run it ({exc.strerror})") from None
    if proc.returncode != 0:
        raise CompatError(f"--python {python}: interpreter failed to start (exit {proc.returncode})")
    try:
        paths = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise CompatError(f"--python {python}: did not report its sys.path; is it a python interpreter?") from None
    return [p for p in paths if p and os.path.isdir(p)]


def search_paths_for(spec: Spec) -> list[str]:
    """Where static loading should look for the dagster of this spec."""
    if spec.version:
        return [str(wheel_tree(spec.version))]
    if spec.python:
        return interpreter_paths(spec.python)
    assert spec.tree
    tree = Path(spec.tree)
    paths = [str(_dagster_package_dir(tree))]
    for extra in ("dagster-shared", "dagster-pipes"):
        cand = tree / "python_modules" / "libraries" / extra
        if cand.is_dir():
            paths.append(str(cand))
    return paths


def _env_key(spec: Spec) -> str:
    if spec.version:
        return f"dagster-{spec.version}-py{sys.version_info[0]}{sys.version_info[1]}"
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
    key = _env_key(spec)
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
            tree = Path(spec.tree or "")
            reqs = []
            for sub in ("libraries/dagster-shared", "libraries/dagster-pipes", "dagster"):
                cand = tree / "python_modules" / sub
                if (cand / "pyproject.toml").exists() or (cand / "setup.py").exists():
                    reqs += ["-e", str(cand)]
            if not reqs:
                reqs = ["-e", str(tree)]
        try:
            _run_uv(["pip", "install", "--quiet", "--python", str(py), *reqs, *WORKER_REQUIREMENTS], what)
        except CompatError:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        (venv / ".complete").write_text(spec.label + "\n" + "\n".join(WORKER_REQUIREMENTS) + "\n")
    return str(py)

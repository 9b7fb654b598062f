"""A real type checker for typing witnesses: mypy, pinned, in an environment of the harness's own.

Some changes break no run but every type-checked subclass: a narrowed return annotation makes an
override written against the old one incompatible, a parameter the base gained makes an old
override's signature an incompatible override. A typing witness is a program written against the
old class that declares such an override (and a typed caller); this module type-checks it
against each side's installed dagster, the same text on both. Accepted against the old side and
rejected against the new proves the cause under a type checker (``proves: typing``).

The checker is the user's concern nowhere: the harness builds a virtual environment holding the
pinned mypy once, in its cache, and points it at each side's interpreter
(``--python-executable``). A check of dagster takes tens of seconds, so every outcome is kept in
the cache under a key of what decides it (the checker's pin, the program's text, the side's
interpreter and the bytes of its dagster packages): a report regenerated over the same sides
runs no checker at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from compat import envs, tempdirs
from compat.model.errors import CompatError

# the checker, pinned: a new mypy may judge the same program otherwise, so the pin is part of
# every cached outcome's key
CHECKER = "mypy"
CHECKER_PIN = "mypy==2.4.1"
TIMEOUT = 900.0
# the schema of one cached outcome
_OUTCOME_KEYS = {"ok": (bool, type(None)), "line": str}


def checker_python() -> str:
    """The interpreter of the harness's checker environment (built once, then reused)."""
    key = f"{CHECKER_PIN.replace('==', '-')}-py{sys.version_info[0]}{sys.version_info[1]}"

    def fill(tmp: Path) -> str:
        what = f"cannot build the type checker's environment ({CHECKER_PIN})"
        envs._run_uv(["venv", "--quiet", "--python", sys.executable, str(tmp / "venv")], what)
        envs._run_uv(["pip", "install", "--quiet", "--python", str(tmp / "venv" / "bin" / "python"), CHECKER_PIN],
                     what)
        return CHECKER_PIN + "\n"

    root = envs.build_once(envs.cache_dir() / "tools" / key, f"tool-{key}", fill)
    return str(root / "venv" / "bin" / "python")


def side_digest(python: str) -> str:
    """What a side's code is, for the outcome cache: its interpreter and the bytes of the
    dagster packages it imports."""
    h = hashlib.sha256(python.encode() + b"\0")
    roots = envs.interpreter_paths(python)
    seen = set()
    for root in roots:
        for name in envs.PACKAGES:
            pkg = Path(root) / name
            if name not in seen and pkg.is_dir():
                seen.add(name)
                envs.sources_digest(h, Path(root), pkg)
    return h.hexdigest()


def outcome_key(digest: str, code: str) -> str:
    """What decides an outcome: the checker's pin, the side (:func:`side_digest`), the program."""
    return hashlib.sha256(f"{CHECKER_PIN}\0{digest}\0{code}".encode()).hexdigest()


def _outcome_path(key: str) -> Path:
    return envs.cache_dir() / "typecheck" / key[:2] / f"{key}.json"


def read_outcome(path: Path) -> tuple[bool | None, str] | None:
    """A cached outcome (ok, one line), or None: absent, or a file that does not match the schema
    (run again). The type checker's outcomes and the ecosystem witnesses' are kept alike."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not (isinstance(data, dict) and set(data) == set(_OUTCOME_KEYS)
            and all(isinstance(data[k], t) for k, t in _OUTCOME_KEYS.items())):
        return None
    return data["ok"], data["line"]


def write_outcome(path: Path, outcome: tuple[bool | None, str]) -> None:
    from compat.model.jsonio import write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"ok": outcome[0], "line": outcome[1]}, sort_keys=True) + "\n")
    except OSError:
        pass  # a cache that cannot be written costs speed, never the run


_ERROR = re.compile(r"^(?P<file>w\d+\.py):(?P<line>\d+): error: (?P<message>.*)$")


def check(programs: list[str], python: str) -> list[tuple[bool | None, str]]:
    """Type-check each program against the dagster `python` imports: per program (accepted,
    one line). Accepted is None when the program could not be set up on this side (an import
    of the program's own header failed): that shows nothing either way."""
    digest = side_digest(python)
    keys = [outcome_key(digest, code) for code in programs]
    outcomes: list[tuple[bool | None, str] | None] = [read_outcome(_outcome_path(k)) for k in keys]
    todo = [i for i, o in enumerate(outcomes) if o is None]
    if todo:
        fresh = _run([programs[i] for i in todo], python, digest)
        for i, outcome in zip(todo, fresh):
            outcomes[i] = outcome
            write_outcome(_outcome_path(keys[i]), outcome)
    return [o for o in outcomes if o is not None]


def _run(programs: list[str], python: str, digest: str) -> list[tuple[bool | None, str]]:
    checker = checker_python()
    work = tempdirs.make("compat-typecheck-")
    try:
        names = [f"w{i:04d}.py" for i in range(len(programs))]
        for name, code in zip(names, programs):
            (work / name).write_text(code)
        proc = _mypy(checker, python, digest, work, names, {}, ok=(0, 1))
        if proc is None:
            return [(None, f"{CHECKER} timed out after {TIMEOUT:.0f}s")] * len(programs)
        errors: dict[str, list[tuple[int, str]]] = {}
        for ln in proc.stdout.splitlines():
            m = _ERROR.match(ln.strip())
            if m:
                errors.setdefault(m["file"], []).append((int(m["line"]), m["message"].strip()))
        out: list[tuple[bool | None, str]] = []
        for name, code in zip(names, programs):
            found = errors.get(name)
            if not found:
                out.append((True, f"{CHECKER} accepts it"))
                continue
            lines = code.splitlines()
            line, message = min(found)
            text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            if text.startswith(("from ", "import ")):
                # the program's own imports: what it is written against is not there to check
                out.append((None, f"{CHECKER}: line {line}: {message}"))
            else:
                out.append((False, f"{CHECKER}: line {line}: {message}"))
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _mypy(checker: str, python: str, digest: str, work: Path, targets: list[str], extra_env: dict[str, str], *,
          ok: tuple[int, ...]) -> subprocess.CompletedProcess | None:
    """mypy run in `work` against the dagster `python` imports, on `targets`; None on a timeout.
    No configuration of the user's is read; mypy's own incremental cache is kept per side, so a
    second batch against the same side is fast. An exit status outside `ok` is one error line."""
    (work / "mypy.ini").write_text("[mypy]\n")
    cache = envs.cache_dir() / "mypy-cache" / digest[:16]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYPY", "PYTHON"))}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra_env)
    cmd = [checker, "-m", "mypy", "--config-file", "mypy.ini", "--python-executable", python,
           "--follow-imports", "silent", "--show-error-codes", "--no-error-summary", "--no-color-output",
           "--hide-error-context", "--no-pretty", "--cache-dir", str(cache), *targets]
    with envs.locked(f"mypy-{digest[:16]}"):
        try:
            proc = tempdirs.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=str(work), env=env,
                                stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return None
        except OSError as e:
            raise CompatError(f"cannot run {CHECKER}: {e}") from None
    if proc.returncode not in ok:
        last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
        raise CompatError(f"{CHECKER} failed on {python} (exit {proc.returncode}): {last}")
    return proc


def check_modules(modules: list[tuple[str, str, Path, str]], python: str) -> list[tuple[bool | None, str]]:
    """Type-check downstream packages' own modules against the dagster `python` imports: per
    (module, member, the unpacked release holding it, the release's sha256), whether the checker
    accepts the module's definitions of `member` (its other errors, a missing stub say, are not
    this witness's). Accepted is None when the checker cannot find the module on this side."""
    digest = side_digest(python)
    keys = [outcome_key(digest, f"module {m} member {member} release {sha}") for m, member, _, sha in modules]
    outcomes: list[tuple[bool | None, str] | None] = [read_outcome(_outcome_path(k)) for k in keys]
    todo = [i for i, o in enumerate(outcomes) if o is None]
    if todo:
        fresh = _run_modules([modules[i] for i in todo], python, digest)
        for i, outcome in zip(todo, fresh):
            outcomes[i] = outcome
            if outcome[0] is not None:
                write_outcome(_outcome_path(keys[i]), outcome)
    return [o for o in outcomes if o is not None]


_MODULE_ERROR = re.compile(r"^(?P<file>.+?\.py):(?P<line>\d+): error: (?P<message>.*)$")


def _run_modules(modules: list[tuple[str, str, Path, str]], python: str, digest: str) -> list[tuple[bool | None, str]]:
    checker = checker_python()
    work = tempdirs.make("compat-typecheck-")
    try:
        trees = sorted({str(tree) for _, _, tree, _ in modules})
        targets = ["--ignore-missing-imports"] + [a for m in sorted({m for m, _, _, _ in modules}) for a in ("-m", m)]
        proc = _mypy(checker, python, digest, work, targets, {"MYPYPATH": os.pathsep.join(trees)}, ok=(0, 1, 2))
        if proc is None:
            return [(None, f"{CHECKER} timed out after {TIMEOUT:.0f}s")] * len(modules)
        if proc.returncode == 2:  # it could not check them (a module it cannot find): shows nothing either way
            last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
            return [(None, f"{CHECKER}: {last}")] * len(modules)
        errors: list[tuple[str, int, str]] = []
        for ln in proc.stdout.splitlines():
            m = _MODULE_ERROR.match(ln.strip())
            if m:
                path = m["file"]
                for tree in trees:
                    path = path.removeprefix(tree + os.sep)
                errors.append((path, int(m["line"]), m["message"].strip()))
        out: list[tuple[bool | None, str]] = []
        for module, member, _, _ in modules:
            rel = module.replace(".", "/")
            mine = sorted((line, msg) for path, line, msg in errors
                          if path in (rel + ".py", rel + "/__init__.py") and f'"{member}"' in msg)
            if mine:
                line, msg = mine[0]
                out.append((False, f"{CHECKER}: {rel}.py:{line}: {msg}"))
            else:
                out.append((True, f"{CHECKER} accepts {module}'s `{member}`"))
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["CHECKER", "CHECKER_PIN", "check", "check_modules", "checker_python", "outcome_key", "side_digest"]

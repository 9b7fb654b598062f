"""Canonical JSON: sorted, stable, schema-versioned, written atomically.

Every artefact the harness writes (surfaces, profiles, traces, reports in JSON) goes through
here, so byte-identical inputs give byte-identical files and an interrupted write never leaves
a half-written file behind.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from compat.model.errors import CompatError
from compat.model.text import escape_unsafe, lone_surrogate


def dumps(data: Any, inline_depth: int | None = None) -> str:
    """Serialize deterministically: sorted keys, fixed indentation, trailing newline.

    With ``inline_depth``, containers nested that deep are written on one line each: a trace's
    dispatch list becomes one line per dispatch, a third of the size and a line-per-event diff.
    """
    if inline_depth is None:
        return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    return _dumps_inline(data, 0, inline_depth) + "\n"


def _dumps_inline(data: Any, depth: int, inline_depth: int) -> str:
    if depth >= inline_depth or not isinstance(data, (dict, list)) or not data:
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    pad = " " * (depth + 1)
    if isinstance(data, dict):
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_dumps_inline(data[k], depth + 1, inline_depth)}"
                 for k in sorted(data)]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    items = [pad + _dumps_inline(v, depth + 1, inline_depth) for v in data]
    return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"


def _file_mode() -> int:
    """The mode a plain open() would give a new file (mkstemp's own is 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def check_replaceable(path: str | os.PathLike[str]) -> None:
    """An output path that a rename may replace: absent or a regular file, never a device, a
    directory or a dangling link (run as root, a rename onto /dev/full replaces the device)."""
    if os.path.lexists(path) and not os.path.isfile(path):
        raise CompatError(f"{path}: not a regular file; refusing to replace it")


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write via a temp file in the same directory and rename it into place."""
    path = Path(path)
    check_replaceable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):  # a full disk, a file-size limit: name the file, keep the old one
            raise CompatError(f"{path}: cannot write it: {exc.strerror or exc}") from None
        raise
    return path


def write_json(path: str | os.PathLike[str], data: Any, inline_depth: int | None = None) -> Path:
    return write_atomic(path, dumps(data, inline_depth))


class _Refused(ValueError):
    """Well-formed JSON that no harness file holds."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """An object whose keys are unique: with a key written twice, json keeps the last value, so
    a second `"accepted": []` would hide the reviewed list above it."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {escape_unsafe(key)!r} appears twice in one object")
        out[key] = value
    return out


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _no_lone_surrogate(data: Any) -> None:
    """No key or string holds a lone surrogate: `"\\ud800"` is valid JSON but no text (it cannot
    be written as UTF-8), so a member named so could be neither shown nor compared."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and lone_surrogate(item) is not None:
            raise _Refused(f"a lone surrogate ({lone_surrogate(item)}) in the string \"{escape_unsafe(item)[:80]}\", "
                           "which is no text")


MAX_INT_DIGITS = 30  # the largest number a harness file holds (a count, a line, a hash) has far fewer


def _bounded_int(text: str) -> int:
    """An integer literal of a sane size: thousands of digits cost quadratic time to convert, and
    past Python's limit the conversion itself raises."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits, more than any harness file holds")
    return int(text)


def read_json(path: str | os.PathLike[str], *, schema: str, versions: tuple[int, ...]) -> dict:
    """Load a harness JSON file and check its schema name and version.

    Raises CompatError (one line) for a missing, empty, truncated or corrupt file, a file of
    another kind, or a schema version this harness does not read.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CompatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CompatError(f"{path}: is a directory, expected a {schema} JSON file") from None
    except UnicodeDecodeError:
        raise CompatError(f"{path}: not a text file, expected a {schema} JSON file") from None
    except OSError as exc:  # a symlink loop, no permission, an I/O error: name the fault
        raise CompatError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if not text.strip():
        raise CompatError(f"{path}: empty file, expected a {schema} JSON file; re-record it")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
        if _SURROGATE_ESCAPE.search(text):  # rare: only then is every string looked at
            _no_lone_surrogate(data)
    except json.JSONDecodeError as exc:
        raise CompatError(
            f"{path}: corrupt or truncated JSON (line {exc.lineno}, column {exc.colno}); re-record it"
        ) from None
    except RecursionError:
        raise CompatError(f"{path}: JSON nested too deeply to be a {schema} file; re-record it") from None
    except _Refused as exc:
        raise CompatError(f"{path}: {exc}; re-record it") from None
    if not isinstance(data, dict) or "schema" not in data:
        raise CompatError(f"{path}: not a {schema} file (no 'schema' key)")
    if data["schema"] != schema:
        raise CompatError(f"{path}: is a {data['schema']!r} file, expected {schema!r}")
    version = data.get("schema_version")
    if type(version) is not int or version not in versions:  # `true` equals 1, and is no version
        newest = max(versions)
        hint = "upgrade compat" if isinstance(version, int) and version > newest else "re-record it"
        raise CompatError(
            f"{path}: {schema} schema version {version!r} is not supported "
            f"(this compat reads {', '.join(map(str, versions))}); {hint}"
        )
    return data

"""`compat bisect`: the first released version in a range where a finding appears.

Surfaces come from unpacked wheels (no install, ~0.1 s to extract each once fetched), so
walking a release range is cheap. Every finding of FROM -> TO (or only those matching
--rule/--member) is located by binary search over the releases in between, assuming that
once a change has landed it stays; each probed version's surface is computed once.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from typing import Callable

from compat import envs, tempdirs
from compat.model.errors import CompatError
from compat.static.diff import compare_surfaces
from compat.static.extract import snapshot


def _key(version: str) -> tuple:
    return tuple(int(x) if x.isdigit() else x for x in re.split(r"[.+-]", version))


def released_versions(package: str = "dagster") -> list[str]:
    """Final releases on the package index, oldest first (via pip as configured here, run by uv)."""
    try:
        proc = tempdirs.run(
            [*envs.pip_command(), "index", "versions", package, "--disable-pip-version-check"],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
            env={**envs.uv_environ(), "PIP_NO_CACHE_DIR": "1"},
        )
    except subprocess.TimeoutExpired:
        raise CompatError("listing releases timed out (is the package index reachable?)") from None
    m = re.search(r"Available versions:\s*(.+)", proc.stdout)
    if proc.returncode != 0 or not m:
        last = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise CompatError(f"cannot list releases of {package}: {last}")
    versions = [v.strip() for v in m.group(1).split(",")]
    return sorted((v for v in versions if re.fullmatch(r"\d+(\.\d+)*", v)), key=_key)


def _fkey(f) -> tuple[str, str, str]:
    """A finding's identity across versions: rule, member and its details (e.g. the hook)."""
    return (f.rule, f.member, json.dumps(f.details, sort_keys=True))


@dataclass
class Located:
    rule: str
    member: str
    severity: str
    first_version: str
    previous_version: str
    message: str


def bisect(
    start: str,
    end: str,
    *,
    target: str,
    rule: str | None = None,
    member: str | None = None,
    versions: list[str] | None = None,
    progress: Callable[[str], None] = lambda m: None,
) -> list[Located]:
    all_versions = versions if versions is not None else released_versions()
    if start not in all_versions:
        raise CompatError(f"--from {start}: not a released dagster version")
    if end not in all_versions:
        raise CompatError(f"--to {end}: not a released dagster version")
    chain = [v for v in all_versions if _key(start) <= _key(v) <= _key(end)]
    if len(chain) < 2:
        raise CompatError(f"--from {start} must be older than --to {end}")
    surfaces: dict[str, object] = {}

    def surface(v: str):
        if v not in surfaces:
            progress(f"surface of dagster=={v}")
            surfaces[v] = snapshot(target, [str(envs.wheel_tree(v))], source=f"dagster=={v}")
        return surfaces[v]

    findings_cache: dict[str, set] = {}

    def keys_at(v: str) -> set[tuple[str, str]]:
        if v not in findings_cache:
            findings_cache[v] = {_fkey(f) for f in compare_surfaces(surface(start), surface(v))}
        return findings_cache[v]

    wanted = [
        f for f in compare_surfaces(surface(start), surface(end))
        if (rule is None or f.rule == rule) and (member is None or f.member in (member, f"self.{member}"))
    ]
    if not wanted:
        what = " ".join(x for x in (rule and f"rule {rule}", member and f"member {member}") if x) or "any finding"
        raise CompatError(f"no {what} between {start} and {end}: nothing to bisect")
    located = []
    for f in wanted:
        key = _fkey(f)
        lo, hi = 0, len(chain) - 1  # key absent at lo (start), present at hi (end)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if key in keys_at(chain[mid]):
                hi = mid
            else:
                lo = mid
        located.append(Located(f.rule, f.member, f.severity, chain[hi], chain[lo], f.message))
    located = list({(x.rule, x.member, x.message): x for x in located}.values())
    return sorted(located, key=lambda x: (_key(x.first_version), x.rule, x.member))


def render(located: list[Located], start: str, end: str) -> str:
    lines = [f"first release introducing each finding, {start} -> {end} (the release before it is clean):"]
    width = max(len(f"{x.rule} {x.member}") for x in located)
    for x in located:
        lines.append(f"  {x.first_version:<9} {x.severity:<8} {(x.rule + ' ' + x.member):<{width}}  {x.message}")
    return "\n".join(lines)

"""The `compat` command line: its grammar, and the one place a harness error becomes one line
(exit 2). What each subcommand does is `compat/commands.py`'s.
"""

from __future__ import annotations

import argparse
import os
import sys

from compat import commands, downstream, envs, signals, tempdirs
from compat.behaviour.replay import CELL_SETS, DEFAULT_CELL_SET
from compat.envs import SPEC_HELP
from compat.fuzz.differential import DEFAULT_STORED_PROGRAMS
from compat.model.errors import CompatError
from compat.model.findings import FAIL_ON
from compat.model.jsonio import check_replaceable
from compat.model.text import escape_unsafe, lone_surrogate
from compat.static.extract import DEFAULT_TARGET
from compat.tools import mutants, shards

FORMATS = ("text", "markdown", "json", "junit", "github")
DESCRIPTION = "The `compat` command line. Exit codes: 0 compatible, 1 incompatible, 2 harness error."


SPEC_EPILOG = SPEC_HELP[0].upper() + SPEC_HELP[1:] + "."


# --- parser ----------------------------------------------------------------------------------
class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (exit 2) that says where the help is."""

    def error(self, message: str):
        self.exit(2, f"compat: error: {message} (see `{self.prog} --help`)\n")


def _whole(least: int, one: str = "", many: str = ""):
    """An argparse type: a whole number (of `many`) of at least `least`, refused in one line otherwise."""
    noun = f"a number of {many}" if many else "a whole number"
    floor = f"at least one {one}" if least == 1 and one else f"at least {least}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"expected {floor}, got {value}")
        return value

    return parse


_count = _whole(1, "mutant", "mutants")
_jobs = _whole(1, "worker process", "worker processes")


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count): the
    default number of worker processes, one per core, since a cell keeps its core busy."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
_rounds = _whole(1)
_at_least = _whole(0)
_downloads = _whole(1, "download", "downloads")


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (0 <= value < float("inf")):  # nan fails every comparison
        raise argparse.ArgumentTypeError(f"expected a finite number of at least 0, got {text!r}")
    return value


def _named(text: str) -> str:
    """A path or an interpreter: "" names nothing (and would quietly mean the default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty value names nothing")
    return text


def _output_file(text: str) -> str:
    """An output path that can be written atomically: checked before any work is done."""
    try:
        check_replaceable(text)
    except CompatError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_jobs(p):
    p.add_argument("-j", "--jobs", type=_jobs, default=machine_cores(),
                   help="behaviour worker processes (default: one per core this process may use, %(default)s here)")


def _add_target(p):
    p.add_argument("--target", default=DEFAULT_TARGET, help="module:Class under test (default: %(default)s)")


def _add_cells(p):
    p.add_argument("--cells", choices=CELL_SETS, default=DEFAULT_CELL_SET,
                   help="behaviour cell set: gate (spies on the corpus, under a minute), full (every "
                        "subclass, scenario and storage; minutes) or spy (the plain spy alone: a tenth of "
                        "the gate, for long histories) (default: %(default)s)")


def _add_witness_dir(p):
    p.add_argument("--witness-dir", metavar="DIR",
                   help="write each cause's witness as a runnable file DIR/<cause id>.py, both outcomes in its head "
                        "(default: none written)")


def _add_report(p, default_fail="breaking"):
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text for a terminal, markdown for a pull-request comment, json, junit, or "
                        "github workflow annotations (default: %(default)s)")
    p.add_argument("--fail-on", choices=FAIL_ON, default=default_fail,
                   help="exit 1 when a cause is at least this severe: breaking, runtime (breaking, "
                        "leaving out type-checker-only breaks), warning, or never (report only) "
                        "(default: %(default)s)")
    p.add_argument("--report", metavar="FILE", type=_output_file,
                   help="write the --format report to FILE (atomically); stdout then gets the text report, "
                        "or the GitHub annotations with --annotations (default: the --format report on stdout)")
    p.add_argument("--annotations", action="store_true",
                   help="with --report: print GitHub workflow annotations (the verdict first, ten at most) "
                        "on stdout instead of the text report")
    p.add_argument("--path-prefix", metavar="PREFIX",
                   help="put PREFIX before package-relative paths (dagster/_core/...) so that locations "
                        "name files of the repository, e.g. python_modules/dagster/ for a wheel of "
                        "dagster (default: detected for a checkout, a tree or PATH@REV; none for a release)")


def _snapshot_command(sub) -> None:
    p = sub.add_parser("snapshot", help="extract the surface of the target class", epilog=SPEC_EPILOG)
    _add_target(p)
    p.add_argument("--python", metavar="PY", type=_named, help="read dagster from this interpreter's sys.path "
                   "(default, without --dagster-version or --path: the installed dagster)")
    p.add_argument("--dagster-version", metavar="V", help="fetch the dagster==V wheel and read it statically (default: none)")
    p.add_argument("--path", metavar="DIR", help="read dagster from a source tree (default: none)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="also write the surface JSON here, atomically (default: the summary only)")
    p.add_argument("--no-cache", action="store_true", help="ignore the content-keyed surface cache")
    p.set_defaults(func=commands.cmd_snapshot)


def _diff_command(sub) -> None:
    p = sub.add_parser("diff", help="compare two surfaces (files, `installed`, dagster==X, a python, a tree)", epilog=SPEC_EPILOG)
    p.add_argument("old", help="a surface JSON file or a SPEC")
    p.add_argument("new", help="a surface JSON file or a SPEC")
    _add_target(p)
    _add_report(p)
    p.add_argument("--griffe", action="store_true", help="append griffe.find_breaking_changes on the same classes, side by side (text, markdown)")
    p.add_argument("--witness", action="store_true",
                   help="run each cause's witness on both sides (two SPECs); an unproven cause is at most a warning")
    _add_witness_dir(p)
    _add_jobs(p)
    p.set_defaults(func=commands.cmd_diff)


def _witness_command(sub) -> None:
    p = sub.add_parser("witness", help="rerun the witness of a cause on both sides", epilog=SPEC_EPILOG)
    p.add_argument("cause_ids", nargs="+", metavar="CAUSE_ID", help="a cause id as reports print it (exports:dagster._core.instance)")
    p.add_argument("--old", required=True, metavar="SPEC", help="the old side")
    p.add_argument("--new", required=True, metavar="SPEC", help="the new side")
    p.add_argument("--show", action="store_true", help="print each witness program too")
    _add_witness_dir(p)
    _add_target(p)
    p.set_defaults(func=commands.cmd_witness)


def _profile_command(sub) -> None:
    p = sub.add_parser("profile", help="profile the target's subclasses in a package or source tree")
    p.add_argument("package", help="an installed package name, a path, or NAME==VERSION to fetch")
    _add_target(p)
    p.add_argument("--python", metavar="PY", type=_named, help="find the package in this interpreter's sys.path "
                   "(default: this interpreter's)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="also write the profile JSON here, atomically (default: the summary only)")
    p.set_defaults(func=commands.cmd_profile)


def _baseline_command(sub) -> None:
    p = sub.add_parser("baseline", help="record surface, profiles and traces of the old side (default: installed)",
                       epilog=SPEC_EPILOG)
    p.add_argument("--out", required=True, metavar="DIR", type=_named, help="baseline directory to (re)write, atomically")
    p.add_argument("--old", metavar="SPEC", help="record this side (e.g. dagster==1.11.4, ~/dagster@master) "
                   "(default: the installed dagster)")
    p.add_argument("--python", metavar="PY", type=_named, help="record from this interpreter's dagster instead of --old (default: none)")
    _add_jobs(p)
    _add_cells(p)
    p.add_argument("--scenarios", nargs="+", metavar="NAME",
                   help="record these scenarios of the cell set only; the manifest says so (default: all)")
    p.add_argument("--programs", type=_at_least, default=None, metavar="N",
                   help=f"generated fuzz programs to store with their results (default: {DEFAULT_STORED_PROGRAMS})")
    _add_target(p)
    p.set_defaults(func=commands.cmd_baseline)


def _accept_command(sub) -> None:
    p = sub.add_parser("accept", help="declare findings intended, in a baseline's accepted.json")
    p.add_argument("--baseline", required=True, metavar="DIR", type=_named, help="the baseline whose accepted.json to extend")
    p.add_argument("--reason", required=True, help="why the change is intended (shown wherever the findings are)")
    p.add_argument("--cause", metavar="ID", help="every finding of this cause of the check (e.g. renamed:_foo); this or --rule with "
                   "--member is required (default: none)")
    p.add_argument("--rule", metavar="RULE", help="with --member: one rule id (docs/rules.md) (default: none)")
    p.add_argument("--member", metavar="MEMBER", help="with --rule: a member name or glob (default: none)")
    p.add_argument("--python", metavar="PY", type=_named, help="with --cause: check this interpreter's dagster (default: installed)")
    p.add_argument("--static-only", action="store_true", help="with --cause: skip the behaviour replay")
    _add_jobs(p)
    p.set_defaults(func=commands.cmd_accept)


def _check_command(sub) -> None:
    p = sub.add_parser("check", help="replay a baseline on the installed target")
    p.add_argument("--baseline", required=True, metavar="DIR", type=_named, help="a baseline recorded by `compat baseline`")
    p.add_argument("--python", metavar="PY", type=_named, help="check this interpreter's dagster (default: installed)")
    _add_jobs(p)
    p.add_argument("--target", help="module:Class under test (default: the one the baseline was recorded for)")
    p.add_argument("--full", action="store_true",
                   help="replay every behaviour cell and stored program, not only those the change can reach")
    p.add_argument("--witness", action="store_true",
                   help="run each cause's witness on the dagster release the baseline was recorded from and on the "
                        "one checked (builds that release's environment); an unproven cause is at most a warning")
    _add_witness_dir(p)
    _add_report(p)
    p.set_defaults(func=commands.cmd_check)


def _compare_command(sub) -> None:
    p = sub.add_parser("compare", help="surfaces, profiles and behaviour replay of two dagsters (live fuzzing with "
                                       "--max-examples)", epilog=SPEC_EPILOG)
    p.add_argument("--old", required=True, metavar="SPEC", help="the side the refactor starts from (recorded, cached by content)")
    p.add_argument("--new", required=True, metavar="SPEC", help="the side under review")
    _add_jobs(p)
    p.add_argument("--max-examples", type=_at_least, default=0,
                   help="also search this many live Hypothesis programs for a difference; the stored programs "
                        "are replayed either way (default: %(default)s, no live fuzzing)")
    p.add_argument("--static-only", action="store_true", help="skip the behaviour replay and fuzzing")
    p.add_argument("--no-witness", action="store_true",
                   help="do not run the causes' witnesses (--static-only runs none either)")
    _add_witness_dir(p)
    p.add_argument("--full", action="store_true",
                   help="replay every behaviour cell and stored program, not only those the change can reach")
    _add_cells(p)
    _add_target(p)
    _add_report(p)
    p.set_defaults(func=commands.cmd_compare)


def _ecosystem_command(sub) -> None:
    p = sub.add_parser("ecosystem", help="every subclass of a dagster class in released downstream packages, "
                                         "checked against the new side", epilog=SPEC_EPILOG)
    p.add_argument("--old", required=True, metavar="SPEC", help="the dagster the downstream releases were made for")
    p.add_argument("--new", required=True, metavar="SPEC", help="the dagster under review")
    p.add_argument("--packages", nargs="+", metavar="NAME",
                   help="downstream distributions (default: " + ", ".join(downstream.DEFAULT_PACKAGES) + ")")
    p.add_argument("--griffe", action="store_true",
                   help="text and markdown: add what griffe.find_breaking_changes reports on the same bases")
    p.add_argument("--all", action="store_true",
                   help="every package of the shipped list (`compat ecosystem-index`): every dagster-* package of "
                        "the index and the others that depend on dagster; one that cannot be fetched or read is "
                        "listed with why")
    p.add_argument("--shard", metavar="K/N", type=shards.parse_shard,
                   help="fetch, read and profile only every N-th package from the K-th, and write that as JSON "
                        "(to --report FILE, else stdout) for `compat merge` (default: the whole run)")
    p.add_argument("--downloads", metavar="N", type=_downloads, default=4,
                   help="packages fetched from the index at once (default: %(default)s)")
    p.add_argument("--no-behaviour", action="store_true",
                   help="static only: replay no downstream override (builds no environment)")
    _add_report(p)
    p.set_defaults(func=commands.cmd_ecosystem)


def _ecosystem_index_command(sub) -> None:
    p = sub.add_parser("ecosystem-index", help="the packages `compat ecosystem --all` checks: list or refresh them")
    p.add_argument("--refresh", action="store_true",
                   help="rebuild the list from the index: every project named *dagster* and how its releases "
                        "follow dagster's (one request per project)")
    p.add_argument("--index-url", metavar="URL",
                   help="a PEP 691 simple index (default: $PIP_INDEX_URL, $UV_INDEX_URL, else PyPI's)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="with --refresh: write the list here (default: the list shipped with compat)")
    p.set_defaults(func=commands.cmd_ecosystem_index)


def _merge_command(sub) -> None:
    p = sub.add_parser("merge", help="join the shard files of one `ecosystem --shard` or `history --shard` run")
    p.add_argument("output", metavar="OUT", type=_output_file, help="the merged report, written atomically")
    p.add_argument("shards", metavar="SHARD", nargs="+", help="the N shard files of one run, in any order")
    p.add_argument("--format", choices=FORMATS, default="json",
                   help="the merged report's format: an ecosystem's any, a history's json, markdown or text "
                        "(default: %(default)s)")
    p.add_argument("--fail-on", choices=FAIL_ON, default="breaking",
                   help="an ecosystem: exit 1 when a cause is at least this severe (default: %(default)s)")
    p.set_defaults(func=commands.cmd_merge)


def _fuzz_command(sub) -> None:
    p = sub.add_parser("fuzz", help="Hypothesis differential fuzzing of two dagsters", epilog=SPEC_EPILOG)
    p.add_argument("--old", required=True, metavar="SPEC", help="the reference side")
    p.add_argument("--new", required=True, metavar="SPEC", help="the side under review")
    p.add_argument("--max-examples", type=_at_least, default=100, help="programs Hypothesis tries (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="Hypothesis seed, for a reproducible search (default: %(default)s)")
    p.add_argument("--storage", choices=("memory", "sqlite", "both"), default="memory",
                   help="storages the programs run on (default: %(default)s)")
    p.set_defaults(func=commands.cmd_fuzz)


def _perf_command(sub) -> None:
    p = sub.add_parser("perf", help="time hot instance methods through a subclass in two dagsters", epilog=SPEC_EPILOG)
    p.add_argument("--old", required=True, metavar="SPEC", help="the reference side")
    p.add_argument("--new", required=True, metavar="SPEC", help="the side under review")
    p.add_argument("--threshold", type=_ratio, default=0.25, help="flag new/old above 1+T (default: %(default)s)")
    p.add_argument("--rounds", type=_rounds, default=7, help="timing rounds per method; the median counts (default: %(default)s)")
    p.add_argument("--storage", choices=("memory", "sqlite"), default="sqlite", help="storage under the instance (default: %(default)s)")
    p.add_argument("--subclass", default="spy:create-run-tags",
                   help="corpus subclass to go through (default: %(default)s)")
    p.set_defaults(func=commands.cmd_perf)


def _mutate_command(sub) -> None:
    p = sub.add_parser("mutate", help="self-check: the gate must fail on known breaking edits of the installed "
                                      "dagster and pass on equivalent ones")
    p.add_argument("--baseline", default="snapshots/baseline", metavar="DIR", help="baseline the mutants are checked against (default: %(default)s)")
    p.add_argument("--only", nargs="+", metavar="ID", help="these mutations only (default: every mutation)")
    p.add_argument("--behaviour", choices=("auto", "always", "never"), default="auto",
                   help="replay traces: auto = when the static checks alone do not decide (default: %(default)s)")
    _add_jobs(p)
    p.add_argument("--full", action="store_true",
                   help="replay every behaviour cell and stored program, not only those the change can reach")
    p.add_argument("--generated", action="store_true",
                   help="generated mutants of dagster/_core/instance/** instead of the known edits: reports the "
                        "mutation score and every survivor (--only then takes generated ids)")
    p.add_argument("--sample", type=_count, metavar="N", help="with --generated: N mutants drawn at random (default: every mutant)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="with --sample: the draw's seed (default: %(default)s)")
    p.add_argument("--operators", nargs="+", choices=tuple(mutants.OPERATORS), metavar="OP",
                   help="with --generated: these operators only (" + ", ".join(mutants.OPERATORS) + ")")
    p.add_argument("--python", metavar="PY", type=_named, help="with --generated: mutate this interpreter's dagster (default: the installed one)")
    p.add_argument("--dagster-version", metavar="V", help="with --generated: mutate a released dagster instead (default: none)")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown",
                   help="with --generated: the report's format (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="with --generated: write the report here, atomically (default: stdout)")
    p.set_defaults(func=commands.cmd_mutate)


def _coverage_command(sub) -> None:
    p = sub.add_parser("coverage", help="which members and lines of the target the behaviour scenarios execute")
    p.add_argument("--python", metavar="PY", type=_named, help="measure this interpreter's dagster (default: the installed one)")
    p.add_argument("--dagster-version", metavar="V", help="measure a released dagster instead (default: none)")
    p.add_argument("--profiles", default="snapshots/profiles", metavar="DIR",
                   help="profiles whose members count as reachable (default: %(default)s)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text or json (default: %(default)s)")
    p.add_argument("-v", "--verbose", action="store_true", help="also list the lines missed in executed members")
    p.add_argument("--scenarios", nargs="+", metavar="NAME", help="these scenarios only (default: the cell set's)")
    p.add_argument("--subclasses", nargs="+", metavar="NAME",
                   help="these subclasses only (spy, spy:<name>, ...) (default: the cell set's)")
    p.add_argument("--storages", nargs="+", choices=("memory", "sqlite"),
                   help="these storages only (default: the cell set's)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="write the report here, atomically (default: stdout)")
    _add_jobs(p)
    _add_cells(p)
    _add_target(p)
    p.set_defaults(func=commands.cmd_coverage)


def _bisect_command(sub) -> None:
    p = sub.add_parser("bisect", help="first released version in a range where a finding appears")
    p.add_argument("--from", dest="start", required=True, metavar="X", help="the first release of the range (e.g. 1.11.4)")
    p.add_argument("--to", dest="end", required=True, metavar="Y", help="the last release of the range")
    p.add_argument("--rule", metavar="R", help="only findings of this rule (default: any rule)")
    p.add_argument("--member", metavar="M", help="only findings about this member; with --behaviour: the "
                   "cells whose dispatches to M through self (which base methods, how often) differ from --from's "
                        "(default: every member)")
    p.add_argument("--behaviour", action="store_true",
                   help="bisect behaviour divergences from --from instead of static findings: each probed "
                        "release is recorded once (its env built with uv) and compared with --from")
    p.add_argument("--cause", metavar="ID", help="with --behaviour: only this cause (e.g. dispatch-lost:create_run) (default: every cause)")
    p.add_argument("--cell", metavar="LABEL",
                   help="with --behaviour: only this cell (subclass/scenario/storage, or one part of it) "
                        "(default: every cell)")
    p.add_argument("--binary", action="store_true",
                   help="with --behaviour: binary search, assuming a divergence once introduced stays "
                        "(default: probe every release and report the intervals where it shows)")
    _add_jobs(p)
    _add_cells(p)
    _add_target(p)
    p.set_defaults(func=commands.cmd_bisect)


def _contract_command(sub) -> None:
    p = sub.add_parser("contract", help="the subclass contract of a baseline's target, as markdown")
    p.add_argument("--baseline", required=True, metavar="DIR", type=_named, help="the baseline to document")
    p.add_argument("--against", metavar="DIR",
                   help="print the unified diff from the contract of this baseline to --baseline's instead "
                        "(exit 1 when they differ) (default: the contract itself)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="write the document (or the diff) here, atomically (default: stdout)")
    p.set_defaults(func=commands.cmd_contract)


def _history_command(sub) -> None:
    p = sub.add_parser("history", help="causes across a range of releases, drawn as a timeline")
    p.add_argument("--from", dest="start", required=True, metavar="X", help="the first release (e.g. 1.11.4)")
    p.add_argument("--to", dest="end", required=True, metavar="Y", help="the last release")
    p.add_argument("--static-only", action="store_true", help="surfaces and profiles only (no env is built)")
    p.add_argument("--out", metavar="DIR",
                   help="also write history.html (timeline), history.md and history.json here, atomically "
                        "(default: stdout only)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="what to print on stdout (default: %(default)s)")
    p.add_argument("--shard", metavar="K/N", type=shards.parse_shard,
                   help="record and compare only every N-th release from the K-th and print that as JSON for "
                        "`compat merge` (default: every release)")
    _add_jobs(p)
    _add_cells(p)
    _add_target(p)
    p.set_defaults(func=commands.cmd_history)


# the subcommands in the order `compat --help` lists them
_COMMANDS = (
    _snapshot_command, _diff_command, _witness_command, _profile_command, _baseline_command, _accept_command,
    _check_command, _compare_command, _ecosystem_command, _ecosystem_index_command, _merge_command,
    _fuzz_command, _perf_command, _mutate_command, _coverage_command, _bisect_command, _contract_command,
    _history_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="compat", description=DESCRIPTION, epilog=SPEC_EPILOG)
    parser.add_argument("--debug", action="store_true", help="show tracebacks for harness errors")
    sub = parser.add_subparsers(dest="command", required=True)

    for add in _COMMANDS:
        add(sub)
    return parser

def _refuse_undecodable(argv: list[str]) -> None:
    """An argument that is no UTF-8 text (Python keeps its bad bytes as lone surrogates) cannot be
    a name, a path to write or a line to print: one line, exit 2, before it reaches a report."""
    for i, arg in enumerate(argv, 1):
        bad = lone_surrogate(arg)
        if bad is not None:
            raise CompatError(f"argument {i} ({escape_unsafe(arg)}) is not valid UTF-8 ({bad}); "
                              "pass names and paths as UTF-8 text")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        _refuse_undecodable(sys.argv[1:] if argv is None else argv)
    except CompatError as exc:
        print(f"compat: error: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if getattr(args, "annotations", False) and not args.report:
        parser.error("--annotations needs --report FILE (the report goes to FILE, the annotations to stdout); "
                     "for annotations alone use --format github")
    signals.install()  # again: `compat.cli:main` may be called without compat.__main__
    tempdirs.sweep_stale()
    try:
        envs.probe_timeout()  # a bad COMPAT_PROBE_TIMEOUT is one line before any work
        envs.keep_hypothesis_cache()
        return args.func(args)
    except CompatError as exc:
        if args.debug:
            raise
        print(escape_unsafe(f"compat: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return signals.stopped(exc)
    except OSError as exc:  # the machine's fault, not the harness's: a full disk, no permission, a symlink loop
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(escape_unsafe(f"compat: error: {where}{exc.strerror or exc}"), file=sys.stderr)
        return 2
    except Exception as exc:  # a harness bug: still one line, with the way to see more
        if args.debug:
            raise
        print(escape_unsafe(f"compat: internal error: {type(exc).__name__}: {exc} (rerun with --debug)"), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

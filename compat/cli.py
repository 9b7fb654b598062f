"""The `compat` command line: its grammar, and the one place a harness error becomes one line
(exit 2). What each subcommand does is `compat/commands.py`'s.
"""

from __future__ import annotations

import argparse
import sys

from compat import commands, downstream, envs, options, signals, tempdirs
from compat.behaviour.replay import CELL_SETS, DEFAULT_CELL_SET
from compat.envs import SPEC_HELP
from compat.fuzz.differential import DEFAULT_STORED_PROGRAMS
from compat.model.errors import CompatError
from compat.model.text import escape_unsafe, lone_surrogate
from compat.options import named, output_file, ratio, whole
from compat.report import FORMATS
from compat.static.extract import DEFAULT_TARGET
from compat.tools import mutants, shards

DESCRIPTION = "The `compat` command line. Exit codes: 0 compatible, 1 incompatible, 2 harness error."


SPEC_EPILOG = SPEC_HELP[0].upper() + SPEC_HELP[1:] + "."


# --- parser ----------------------------------------------------------------------------------
class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (exit 2) that says where the help is."""

    def error(self, message: str):
        self.exit(2, f"compat: error: {message} (see `{self.prog} --help`)\n")


_count = whole(1, "mutant", "mutants")
_rounds = whole(1)
_at_least = whole(0)
_downloads = whole(1, "download", "downloads")


def _add_target(p):
    options.TARGET.add_to(p, default=DEFAULT_TARGET)


def _add_cells(p):
    p.add_argument("--cells", choices=CELL_SETS, default=DEFAULT_CELL_SET,
                   help="behaviour cell set: gate (spies on the corpus, under a minute), full (every "
                        "subclass, scenario and storage; minutes) or spy (the plain spy alone: a tenth of "
                        "the gate, for long histories) (default: %(default)s)")


def _add_report(p):
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text for a terminal, markdown for a pull-request comment, json, junit, or "
                        "github workflow annotations (default: %(default)s)")
    for option in (options.FAIL_ON, options.REPORT, options.ANNOTATIONS, options.PATH_PREFIX):
        option.add_to(p)


def _snapshot_command(sub) -> None:
    p = sub.add_parser("snapshot", help="extract the surface of the target class", epilog=SPEC_EPILOG)
    _add_target(p)
    options.PYTHON.add_to(p, help="read dagster from this interpreter's sys.path",
                          left_out="the installed dagster, without --dagster-version or --path")
    p.add_argument("--dagster-version", metavar="V", help="fetch the dagster==V wheel and read it statically (default: none)")
    p.add_argument("--path", metavar="DIR", help="read dagster from a source tree (default: none)")
    p.add_argument("-o", "--output", metavar="FILE", type=output_file,
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
    options.WITNESS.add_to(p, help="run each cause's witness on both sides (two SPECs); an unproven cause is at most "
                                   "a warning")
    options.WITNESS_DIR.add_to(p)
    options.JOBS.add_to(p)
    p.set_defaults(func=commands.cmd_diff)


def _witness_command(sub) -> None:
    p = sub.add_parser("witness", help="rerun the witness of a cause on both sides", epilog=SPEC_EPILOG)
    p.add_argument("cause_ids", nargs="+", metavar="CAUSE_ID", help="a cause id as reports print it (exports:dagster._core.instance)")
    p.add_argument("--old", required=True, metavar="SPEC", help="the old side")
    p.add_argument("--new", required=True, metavar="SPEC", help="the new side")
    p.add_argument("--show", action="store_true", help="print each witness program too")
    options.WITNESS_DIR.add_to(p)
    _add_target(p)
    p.set_defaults(func=commands.cmd_witness)


def _profile_command(sub) -> None:
    p = sub.add_parser("profile", help="profile the target's subclasses in a package or source tree")
    p.add_argument("package", help="an installed package name, a path, or NAME==VERSION to fetch")
    _add_target(p)
    options.PYTHON.add_to(p, help="find the package in this interpreter's sys.path", left_out="this interpreter's")
    p.add_argument("-o", "--output", metavar="FILE", type=output_file,
                   help="also write the profile JSON here, atomically (default: the summary only)")
    p.set_defaults(func=commands.cmd_profile)


def _baseline_command(sub) -> None:
    p = sub.add_parser("baseline", help="record surface, profiles and traces of the old side (default: installed)",
                       epilog=SPEC_EPILOG)
    p.add_argument("--out", required=True, metavar="DIR", type=named, help="baseline directory to (re)write, atomically")
    p.add_argument("--old", metavar="SPEC", help="record this side (e.g. dagster==1.11.4, ~/dagster@master) "
                   "(default: the installed dagster)")
    options.PYTHON.add_to(p, help="record from this interpreter's dagster instead of --old", left_out="none")
    options.JOBS.add_to(p)
    _add_cells(p)
    p.add_argument("--scenarios", nargs="+", metavar="NAME",
                   help="record these scenarios of the cell set only; the manifest says so (default: all)")
    p.add_argument("--programs", type=_at_least, default=None, metavar="N",
                   help=f"generated fuzz programs to store with their results (default: {DEFAULT_STORED_PROGRAMS})")
    _add_target(p)
    p.set_defaults(func=commands.cmd_baseline)


def _accept_command(sub) -> None:
    p = sub.add_parser("accept", help="declare findings intended, in a baseline's accepted.json")
    options.BASELINE.add_to(p, required=True, help="the baseline whose accepted.json to extend")
    p.add_argument("--reason", required=True, help="why the change is intended (shown wherever the findings are)")
    p.add_argument("--cause", metavar="ID", help="every finding of this cause of the check (e.g. renamed:_foo); this or --rule with "
                   "--member is required (default: none)")
    p.add_argument("--rule", metavar="RULE", help="with --member: one rule id (docs/rules.md) (default: none)")
    p.add_argument("--member", metavar="MEMBER", help="with --rule: a member name or glob (default: none)")
    options.PYTHON.add_to(p, help="with --cause: check the dagster of this interpreter instead of the installed one")
    options.STATIC_ONLY.add_to(p, help="with --cause: skip the behaviour replay")
    options.JOBS.add_to(p)
    p.set_defaults(func=commands.cmd_accept)


def _check_command(sub) -> None:
    p = sub.add_parser("check", help="replay a baseline on the installed target")
    options.BASELINE.add_to(p, required=True)
    options.PYTHON.add_to(p)
    options.JOBS.add_to(p)
    options.TARGET.add_to(p, left_out="the one the baseline was recorded for")
    options.FULL.add_to(p)
    options.WITNESS.add_to(p)
    options.WITNESS_DIR.add_to(p)
    _add_report(p)
    p.set_defaults(func=commands.cmd_check)


def _compare_command(sub) -> None:
    p = sub.add_parser("compare", help="surfaces, profiles and behaviour replay of two dagsters (live fuzzing with "
                                       "--max-examples)", epilog=SPEC_EPILOG)
    p.add_argument("--old", required=True, metavar="SPEC", help="the side the refactor starts from (recorded, cached by content)")
    p.add_argument("--new", required=True, metavar="SPEC", help="the side under review")
    options.JOBS.add_to(p)
    p.add_argument("--max-examples", type=_at_least, default=0,
                   help="also search this many live Hypothesis programs for a difference; the stored programs "
                        "are replayed either way (default: %(default)s, no live fuzzing)")
    options.STATIC_ONLY.add_to(p)
    p.add_argument("--no-witness", action="store_true",
                   help="do not run the causes' witnesses (--static-only runs none either)")
    options.WITNESS_DIR.add_to(p)
    options.FULL.add_to(p)
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
    options.STATIC_ONLY.add_to(p, name="no-behaviour",
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
    p.add_argument("-o", "--output", metavar="FILE", type=output_file,
                   help="with --refresh: write the list here (default: the list shipped with compat)")
    p.set_defaults(func=commands.cmd_ecosystem_index)


def _merge_command(sub) -> None:
    p = sub.add_parser("merge", help="join the shard files of one `ecosystem --shard` or `history --shard` run")
    p.add_argument("output", metavar="OUT", type=output_file, help="the merged report, written atomically")
    p.add_argument("shards", metavar="SHARD", nargs="+", help="the N shard files of one run, in any order")
    p.add_argument("--format", choices=FORMATS, default="json",
                   help="the merged report's format: an ecosystem's any, a history's json, markdown or text "
                        "(default: %(default)s)")
    options.FAIL_ON.add_to(p, help="an ecosystem: exit 1 when a cause is at least this severe")
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
    p.add_argument("--threshold", type=ratio, default=0.25, help="flag new/old above 1+T (default: %(default)s)")
    p.add_argument("--rounds", type=_rounds, default=7, help="timing rounds per method; the median counts (default: %(default)s)")
    p.add_argument("--storage", choices=("memory", "sqlite"), default="sqlite", help="storage under the instance (default: %(default)s)")
    p.add_argument("--subclass", default="spy:create-run-tags",
                   help="corpus subclass to go through (default: %(default)s)")
    p.set_defaults(func=commands.cmd_perf)


def _mutate_command(sub) -> None:
    p = sub.add_parser("mutate", help="self-check: the gate must fail on known breaking edits of the installed "
                                      "dagster and pass on equivalent ones")
    options.BASELINE.add_to(p, help="baseline the mutants are checked against", default="snapshots/baseline",
                            left_out="%(default)s", type=None)
    p.add_argument("--only", nargs="+", metavar="ID", help="these mutations only (default: every mutation)")
    p.add_argument("--behaviour", choices=("auto", "always", "never"), default="auto",
                   help="replay traces: auto = when the static checks alone do not decide (default: %(default)s)")
    options.JOBS.add_to(p)
    options.FULL.add_to(p)
    p.add_argument("--generated", action="store_true",
                   help="generated mutants of dagster/_core/instance/** instead of the known edits: reports the "
                        "mutation score and every survivor (--only then takes generated ids)")
    p.add_argument("--sample", type=_count, metavar="N", help="with --generated: N mutants drawn at random (default: every mutant)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="with --sample: the draw's seed (default: %(default)s)")
    p.add_argument("--operators", nargs="+", choices=tuple(mutants.OPERATORS), metavar="OP",
                   help="with --generated: these operators only (" + ", ".join(mutants.OPERATORS) + ")")
    options.PYTHON.add_to(p, help="with --generated: mutate this interpreter's dagster")
    p.add_argument("--dagster-version", metavar="V", help="with --generated: mutate a released dagster instead (default: none)")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown",
                   help="with --generated: the report's format (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="FILE", type=output_file,
                   help="with --generated: write the report here, atomically (default: stdout)")
    p.set_defaults(func=commands.cmd_mutate)


def _coverage_command(sub) -> None:
    p = sub.add_parser("coverage", help="which members and lines of the target the behaviour scenarios execute")
    options.PYTHON.add_to(p, help="measure this interpreter's dagster")
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
    p.add_argument("-o", "--output", metavar="FILE", type=output_file,
                   help="write the report here, atomically (default: stdout)")
    options.JOBS.add_to(p)
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
    options.JOBS.add_to(p)
    _add_cells(p)
    _add_target(p)
    p.set_defaults(func=commands.cmd_bisect)


def _contract_command(sub) -> None:
    p = sub.add_parser("contract", help="the subclass contract of a baseline's target, as markdown")
    options.BASELINE.add_to(p, required=True, help="the baseline to document")
    p.add_argument("--against", metavar="DIR",
                   help="print the unified diff from the contract of this baseline to --baseline's instead "
                        "(exit 1 when they differ) (default: the contract itself)")
    p.add_argument("-o", "--output", metavar="FILE", type=output_file,
                   help="write the document (or the diff) here, atomically (default: stdout)")
    p.set_defaults(func=commands.cmd_contract)


def _history_command(sub) -> None:
    p = sub.add_parser("history", help="causes across a range of releases, drawn as a timeline")
    p.add_argument("--from", dest="start", required=True, metavar="X", help="the first release (e.g. 1.11.4)")
    p.add_argument("--to", dest="end", required=True, metavar="Y", help="the last release")
    options.STATIC_ONLY.add_to(p, help="surfaces and profiles only (no env is built)")
    p.add_argument("--out", metavar="DIR",
                   help="also write history.html (timeline), history.md and history.json here, atomically "
                        "(default: stdout only)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="what to print on stdout (default: %(default)s)")
    p.add_argument("--shard", metavar="K/N", type=shards.parse_shard,
                   help="record and compare only every N-th release from the K-th and print that as JSON for "
                        "`compat merge` (default: every release)")
    options.JOBS.add_to(p)
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

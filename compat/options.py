"""The options the `compat` command and the gate's pytest plugin share, each declared once.

A setting such as the baseline, the severity that fails, the interpreter under check or the
report file is one :class:`Option` here: its name, what it does, what applies without it, the
values it takes and which front ends have it. The command line (`compat/cli.py`) adds it to a
subcommand as ``--NAME``; the plugin (`compat/plugin.py`) adds it to pytest as ``--compat-NAME``,
and ``[tool.compat]`` spells it NAME. Declared twice, the two helps drifted apart; a command that
means something narrower by an option (``accept --python``: only with ``--cause``) says so where
it adds it.

The plugin gives pytest no default and no value check: a value left out of pytest's command line
is taken from ``[tool.compat]`` first, and both are checked together when the gate's settings
are resolved (:meth:`compat.gate.gate.Settings.resolve`); the help states the default all the
same. The values the command line takes are checked here, each refused in one line (exit 2).

This module imports the standard library and the data layer only: the plugin imports it in every
pytest run of an environment the harness is installed in.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace
from typing import Any, Callable

from compat.model.errors import CompatError
from compat.model.findings import FAIL_ON as SEVERITIES
from compat.model.jsonio import check_replaceable

CLI, GATE = "cli", "gate"


# --- the values options take: each refused in one line ---------------------------------------
def whole(least: int, one: str = "", many: str = ""):
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


def ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (0 <= value < float("inf")):  # nan fails every comparison
        raise argparse.ArgumentTypeError(f"expected a finite number of at least 0, got {text!r}")
    return value


def named(text: str) -> str:
    """A path or an interpreter: "" names nothing (and would quietly mean the default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty value names nothing")
    return text


def output_file(text: str) -> str:
    """An output path that can be written atomically: checked before any work is done."""
    try:
        check_replaceable(text)
    except CompatError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count): the
    default number of worker processes, one per core, since a cell keeps its core busy."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# --- an option ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """One setting, for every front end that has it.

    ``left_out`` is what applies without the option, as its help ends (``%(default)s`` is the
    command line's ``default``); a flag's help says none. Where the gate reads the option
    otherwise (its report is markdown, its path prefix is detected for an editable install
    only), ``gate_help`` and ``gate_left_out`` say how."""

    name: str  # --NAME on the command line, --compat-NAME (or --compat-GATE_NAME) for pytest
    help: str  # what it does
    left_out: str | None = "%(default)s"
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    flag: bool = False  # takes no value
    type: Callable[[str], Any] | None = None  # the command line's check of a value
    default: Any = None  # the command line's value when it is left out, or a function giving it then
    short: str | None = None  # a one-letter spelling on the command line, e.g. -j
    fronts: tuple[str, ...] = (CLI, GATE)
    gate_name: str | None = None  # the gate's spelling, where it is not NAME
    gate_help: str | None = None
    gate_left_out: str | None = None

    def add_to(self, parser: argparse.ArgumentParser, *, required: bool = False, **changes: Any) -> None:
        """Add it to a subcommand's parser; `changes` (help, left_out, default, metavar, type)
        say what that command means by it, and `required` that the command needs it."""
        assert CLI in self.fronts, f"--{self.name} is not an option of the command line"
        o = replace(self, **changes)
        default = o.default() if callable(o.default) else o.default
        kwargs: dict[str, Any] = {"help": o._help(o.help, None if required else o.left_out)}
        if o.flag:
            kwargs["action"] = "store_true"
        else:
            kwargs.update(metavar=o.metavar, choices=o.choices, type=o.type, default=default, required=required)
        flags = (o.short, f"--{o.name}") if o.short else (f"--{o.name}",)
        parser.add_argument(*flags, **{k: v for k, v in kwargs.items() if v is not None})

    def add_to_gate(self, group) -> None:
        """Add it to the gate's option group of pytest, with no default (see the module's doc)."""
        assert GATE in self.fronts, f"--{self.name} is not an option of the gate"
        left_out = self.gate_left_out or (self.left_out % {"default": self.default} if self.left_out else None)
        kwargs: dict[str, Any] = {"help": self._help(self.gate_help or self.help, left_out)}
        if self.flag:
            kwargs["action"] = "store_true"
        else:
            kwargs.update(metavar=self.metavar, choices=self.choices)
        group.addoption(f"--compat-{self.gate_name or self.name}", **{k: v for k, v in kwargs.items() if v is not None})

    @property
    def setting(self) -> str:
        """The gate's name for it: pytest's option `compat_<setting>`, the key of the settings."""
        return (self.gate_name or self.name).replace("-", "_")

    def _help(self, text: str, left_out: str | None) -> str:
        return text if self.flag or not left_out else f"{text} (default: {left_out})"


# --- the options ------------------------------------------------------------------------------
BASELINE = Option(
    "baseline", "a baseline recorded by `compat baseline`", metavar="DIR", type=named,
    left_out="the project's snapshots/baseline, or snapshots/baseline-VERSION, recorded on the installed dagster")
TARGET = Option("target", "module:Class under test", metavar="M:C", gate_left_out="the baseline's")
UPDATE = Option("update", "re-record the baseline, atomically, and show what changed", flag=True, fronts=(GATE,))
REPORT = Option(
    "report", "write the --format report to FILE (atomically); stdout then gets the text report, or the GitHub "
              "annotations with --annotations", metavar="FILE", type=output_file,
    left_out="the --format report on stdout",
    gate_help="also write the causes and findings as markdown to FILE, atomically",
    gate_left_out="the terminal summary only")
FAIL_ON = Option(
    "fail-on", "fail (exit 1) when a cause is at least this severe: breaking, runtime (breaking, leaving out "
               "type-checker-only breaks), warning, or never (report only)", choices=SEVERITIES, default="breaking")
PYTHON = Option("python", "check the dagster of this interpreter instead of the installed one", metavar="PY",
                type=named, left_out="the installed one")
STATIC_ONLY = Option("static-only", "skip the behaviour replay and fuzzing: surfaces and profiles only", flag=True,
                     gate_name="no-behaviour")
FULL = Option("full", "replay every behaviour cell and stored program, not only those the change can reach", flag=True)
WITNESS = Option(
    "witness", "run each cause's witness on the dagster release the baseline was recorded from and on the one "
               "checked (builds that release's environment); an unproven cause is at most a warning", flag=True,
    gate_help="in the report, put each cause to its witness on the dagster release the baseline was recorded from "
              "and on the one checked (builds that release's environment); an unproven cause is at most a warning "
              "there")
PATH_PREFIX = Option(
    "path-prefix", "put PREFIX before package-relative paths (dagster/_core/...) so that locations name files of "
                   "the repository, e.g. python_modules/dagster/ for a wheel of dagster", metavar="PREFIX",
    left_out="detected for a checkout, a tree or PATH@REV; none for a release",
    gate_left_out="detected for an editable checkout; none for a wheel")

# the command line's own, which several of its commands take
JOBS = Option("jobs", "behaviour worker processes", short="-j", type=whole(1, "worker process", "worker processes"),
              default=machine_cores, left_out="one per core this process may use, %(default)s here", fronts=(CLI,))
WITNESS_DIR = Option("witness-dir", "write each cause's witness as a runnable file DIR/<cause id>.py, both outcomes "
                                    "in its head", metavar="DIR", left_out="none written", fronts=(CLI,))
ANNOTATIONS = Option("annotations", "with --report: print GitHub workflow annotations (the verdict first, ten at "
                                    "most) on stdout instead of the text report", flag=True, fronts=(CLI,))

# the gate's options, in the order `pytest --help` lists them
GATE_OPTIONS = (BASELINE, TARGET, UPDATE, REPORT, FAIL_ON, PYTHON, STATIC_ONLY, FULL, WITNESS, PATH_PREFIX)

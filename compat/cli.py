"""The `compat` command line. Exit codes: 0 compatible, 1 incompatible, 2 harness error."""

from __future__ import annotations

import argparse
import os
import random
import sys
import textwrap
import time
from pathlib import Path

from compat import envs, pipeline, sides, signals, tempdirs
from compat.behaviour import coverage as behaviour_coverage
from compat.behaviour.replay import CELL_SETS, DEFAULT_CELL_SET, plan_cells
from compat.envs import SPEC_HELP
from compat.fuzz.differential import DEFAULT_STORED_PROGRAMS, fuzz
from compat.gate import accepted as accepted_mod
from compat.baseline import Baseline
from compat.model.baseline import surface_label
from compat.record import copy_baseline, record_baseline
from compat.model.errors import CompatError
from compat.model.text import escape_unsafe, lone_surrogate
from compat.model.findings import FAIL_ON
from compat.model.jsonio import check_replaceable, dumps, write_atomic
from compat.causes import build_causes
from compat.result import CheckResult
from compat.catalogue import RULES
from compat.static.diff import compare_surfaces
from compat.static.extract import DEFAULT_TARGET, read_surface, side_surface, snapshot, write_surface
from compat.static.griffe_compare import griffe_findings, side_by_side
from compat.model.profile import write_profile
from compat.static.profile import profile_source
from compat import downstream
from compat.tools import contract as contract_mod
from compat.tools import ecosystem, mutants, mutate, shards, timeline
from compat import returns
from compat import witness as witness_mod
from compat.tools import history as history_mod
from compat.tools.bisect import bisect, render
from compat.tools.perf import perf

FORMATS = ("text", "markdown", "json", "junit", "github")


def _progress(msg: str) -> None:
    if os.environ.get("COMPAT_QUIET") != "1":
        print(f"[compat] {msg}", file=sys.stderr, flush=True)


# --- surfaces from any source ----------------------------------------------------------------
def surface_for(source: str, target: str, *, quiet: bool = False):
    """A surface from a snapshot file or a SPEC, and the side it came from (None for a file)."""
    path = Path(source)
    if source != sides.INSTALLED and (path.suffix == ".json" or (path.is_file() and not os.access(path, os.X_OK))):
        return read_surface(path), None
    side = sides.resolve(source, target)
    if not quiet and not side.installed:
        _progress(f"loading {target} from {side.label}")
    return side_surface(side, target), side


def _side(args):
    """The side chosen by --python, --dagster-version or --path (installed by default)."""

    return sides.from_options(python=args.python, dagster_version=getattr(args, "dagster_version", None),
                              path=getattr(args, "path", None), target=getattr(args, "target", None))


# --- commands --------------------------------------------------------------------------------
def cmd_snapshot(args) -> int:
    side = _side(args)
    if side.spec is not None and side.spec.version:
        _progress(f"fetching {side.label}")
    started = time.perf_counter()
    surface = snapshot(args.target, side.search_paths, source=side.source, use_cache=not args.no_cache)
    source = side.source
    elapsed = time.perf_counter() - started
    if args.output:
        write_surface(surface, args.output)
    counts = surface.counts()
    out = sys.stdout
    print(f"{surface.cls.path}  (dagster {surface.generator.get('dagster')}, {source})", file=out)
    print(f"  defined at {surface.cls.location}; {len(surface.cls.mro)} classes in the MRO", file=out)
    for path in surface.cls.mro:
        print(f"    {path}", file=out)
    print(f"  metaclass: {surface.cls.metaclass}", file=out)
    vis = ", ".join(f"{k} {v}" for k, v in counts["by_visibility"].items())
    kinds = ", ".join(f"{k} {v}" for k, v in counts["by_kind"].items())
    attrs = ", ".join(f"{k} {v}" for k, v in counts["instance_attributes"].items())
    print(f"  members: {len(surface.members)} ({vis})", file=out)
    print(f"  by kind: {kinds}", file=out)
    print(f"  instance attributes: {len(surface.instance_attributes)} ({attrs})", file=out)
    for imp in surface.import_paths:
        print(f"  import {imp.path}: {'-> ' + imp.resolves_to if imp.resolves_to else 'does not resolve'}", file=out)
    if args.output:
        print(f"  written to {args.output} in {elapsed:.2f}s", file=out)
    return 0


def _finish(result, args, extra: str = "") -> int:
    """The report in --format on stdout, or with --report in FILE and then the text report (or,
    with --annotations, the GitHub annotations) on stdout; the exit code follows the causes at or
    above --fail-on. ``extra``: a section the --format report ends with (the griffe side by side),
    in a cut markdown report and its complete one alike."""
    if getattr(args, "witness_dir", None):
        written = witness_mod.write_dir(result.causes, args.witness_dir)
        _progress(f"wrote {len(written)} witness program(s) to {args.witness_dir}")
    if args.report:
        written = result.write(args.report, args.format, args.fail_on, extra)
        for path in written[1:]:
            _progress(f"the report was cut to fit a pull-request comment; the complete one is {path}")
        sys.stdout.write(result.render("github" if args.annotations else "text", args.fail_on))
    else:
        text = result.render(args.format, args.fail_on)
        text = text.rstrip("\n") + "\n" + extra if extra else text
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return result.exit_code(args.fail_on)


def cmd_diff(args) -> int:
    old, old_side = surface_for(args.old, args.target)
    new, new_side = surface_for(args.new, args.target)
    findings = compare_surfaces(old, new)
    prefix = args.path_prefix if args.path_prefix is not None else (new_side.repo_prefix() if new_side else "")
    result = CheckResult(target=args.target, old_label=_label(old, old_side), new_label=_label(new, new_side),
                         findings=findings,
                         old_surface=old, new_surface=new, path_prefix=prefix)
    if args.witness or args.witness_dir:
        if old_side is None or new_side is None:
            raise CompatError("--witness needs two sides that can run (a SPEC each), not surface files")
        _progress("running the witnesses of the causes on both sides")
        result.witness_sides, result.witness_jobs = (old_side, new_side), args.jobs
    if args.griffe and args.format in ("text", "markdown"):
        _progress("running griffe.find_breaking_changes on the same classes")
        return _finish(result, args, side_by_side(
            result.findings, griffe_findings(args.old, args.new, args.target), markdown=args.format == "markdown"))
    return _finish(result, args)


def _label(surface, side) -> str:
    """A release by its version; a tree, a revision or an interpreter by what the user named."""
    if side is None or side.installed or (side.spec is not None and side.spec.version):
        return surface_label(surface)
    return f"{side.label}, dagster {surface.generator.get('dagster', '?')}"


def cmd_profile(args) -> int:
    prof = profile_source(args.package, target=args.target, python=args.python)
    if args.output:
        write_profile(prof, args.output)
    print(prof.summary())
    return 0


def cmd_baseline(args) -> int:
    python = args.python
    if args.scenarios:  # an unknown name is refused before minutes of recording, not after
        plan_cells(scenarios=args.scenarios, cell_set=args.cells)
    if args.old is not None:
        if python is not None:
            raise CompatError("choose one of --old and --python")
        if args.scenarios or args.programs is not None:
            raise CompatError("--scenarios and --programs record from the installed dagster or --python, not from --old")
        side = sides.resolve(args.old, args.target)
        if not side.installed:
            # one recording per content: the one `compare --old SPEC` made (or makes, for both)
            recorded = pipeline.cached_record(side, target=args.target, jobs=args.jobs, cell_set=args.cells,
                                              progress=_progress)
            copy_baseline(recorded.path, args.out, progress=_progress)
            return 0
    record_baseline(args.out, python=python, target=args.target, jobs=args.jobs, cell_set=args.cells,
                    selection={"scenarios": args.scenarios} if args.scenarios else None, fuzz_programs=args.programs,
                    progress=_progress)
    return 0


def cmd_accept(args) -> int:
    """Declare findings intended: entries in the baseline's accepted.json, with the reason."""
    base = Baseline(args.baseline)
    if not args.reason or not args.reason.strip():
        raise CompatError("--reason is required: say why the change is intended")
    if args.cause is not None:
        if args.rule is not None or args.member is not None:
            raise CompatError("choose --cause, or --rule with --member")
        result = pipeline.check(base, sides.from_options(python=args.python), jobs=args.jobs, target=_named_target(None),
                                behaviour=not args.static_only, progress=_progress)
        cause = next((c for c in result.causes if c.id == args.cause), None)
        if cause is None:
            known = ", ".join(c.id for c in result.causes) or "none"
            raise CompatError(f"no cause {args.cause!r} in this check (causes: {known})")
        pairs = sorted({(f.rule, f.member) for f in cause.findings})
    elif args.rule is not None and args.member is not None:
        pairs = [(args.rule, args.member)]
    else:
        raise CompatError("name what to accept: --cause ID, or --rule RULE --member MEMBER")
    entries = list(base.accepted) + [accepted_mod.Accepted(rule, member, args.reason.strip()) for rule, member in pairs]
    for e in entries:  # the same checks loading the file makes, before anything is written
        if e.rule not in RULES:
            raise CompatError(f"--rule {e.rule}: no such rule; see docs/rules.md")
    path = accepted_mod.save(base.path, entries)
    print(f"accepted {len(pairs)} entr{'y' if len(pairs) == 1 else 'ies'} in {path}: "
          + ", ".join(f"{r} {m}" for r, m in pairs))
    return 0


def _named_target(option: str | None) -> str | None:
    """The target the user named: the option, else the working project's `[tool.compat]` target
    (a baseline's own manifest names none the harness imports on its word)."""
    from compat.gate.gate import project_target

    return option or project_target(Path.cwd())


def cmd_check(args) -> int:
    baseline, new_side = Baseline(args.baseline), sides.from_options(python=args.python)
    old_side = (sides.recorded_side(baseline.surface, f"baseline {args.baseline}")
                if args.witness or args.witness_dir else None)
    result = pipeline.check(baseline, new_side, target=_named_target(args.target),
                            jobs=args.jobs, progress=_progress, path_prefix=args.path_prefix, full=args.full)
    if old_side is not None:  # the recorded release and the dagster under check, both run
        result.witness_sides, result.witness_jobs = (old_side, new_side), args.jobs
    return _finish(result, args)


def cmd_compare(args) -> int:
    timings: list[str] = []
    old_side, new_side = sides.resolve(args.old, args.target), sides.resolve(args.new, args.target)
    result = pipeline.check(old_side, new_side, target=args.target, jobs=args.jobs,
                            fuzz_examples=args.max_examples, behaviour=not args.static_only, cell_set=args.cells,
                            progress=_progress, timings=timings, path_prefix=args.path_prefix, full=args.full)
    if not (args.no_witness or args.static_only):  # a static comparison runs nothing on either side
        result.witness_sides = (old_side, new_side)
        result.witness_jobs = args.jobs
    for line in timings:
        _progress(f"  {line}")
    return _finish(result, args)


def cmd_witness(args) -> int:
    """Rerun the witnesses of the named causes on both sides; 1 when one of them proves its cause."""
    old, old_side = surface_for(args.old, args.target)
    new, new_side = surface_for(args.new, args.target)
    if old_side is None or new_side is None:
        raise CompatError("witness needs two sides that can run (a SPEC each), not surface files")
    causes = {c.id: c for c in build_causes(compare_surfaces(old, new), old, new)}
    # a return contract is a cause only its witness makes: name the members it can be put to
    contracts = [f"{returns.KIND}:{m}" for m in returns.candidates(list(causes.values()), old, new)]
    unknown = [i for i in args.cause_ids if i not in causes and i not in contracts]
    if unknown:
        known = sorted(causes) + contracts
        raise CompatError(f"no cause {unknown[0]!r} between {old_side.label} and {new_side.label} "
                          f"(known: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''})")
    chosen = [causes[i] for i in args.cause_ids if i in causes]
    pythons = (old_side.python, new_side.python)
    proven = 0
    for c, (w, why) in zip(chosen, witness_mod.witnesses(chosen, old, args.target, pythons)):
        witness_mod.judge(c, w, why)
        if w is None:
            print(f"{c.id}: no witness ({why})")
            continue
        proven += bool(w.proves)
        print(f"{c.id}: {w.proves or 'unproven'}\n  {old_side.label}: {w.old}\n  {new_side.label}: {w.new}")
        if args.show:
            print(textwrap.indent(w.code, "    "))
    asked = [i.split(":", 1)[1] for i in args.cause_ids if i not in causes]
    if asked:
        made, skipped = returns.contracts(list(causes.values()), old, new, args.target, pythons, only=asked)
        for c in made:
            proven += 1
            print(f"{c.id}: runtime\n  {old_side.label}: {c.witness['old']}\n  {new_side.label}: {c.witness['new']}")
            if args.show:
                print(textwrap.indent(c.witness["code"], "    "))
        for m, why in sorted(skipped.items()):
            print(f"{returns.KIND}:{m}: unproven ({why})")
        chosen += made
    if args.witness_dir:
        witness_mod.write_dir(chosen, args.witness_dir)
    return 1 if proven else 0


def _ecosystem_names(args) -> list[str]:
    if args.all and args.packages:
        raise CompatError("--all checks every listed package: leave out --packages")
    names = downstream.listed_packages() if args.all else list(args.packages or downstream.DEFAULT_PACKAGES)
    return [downstream.check_name(n) for n in names]


def _located(result, new, path_prefix: str | None) -> None:
    prefix = path_prefix if path_prefix is not None else new.repo_prefix()
    for c in result.causes:  # locations in the new dagster, named as files of its repository
        if prefix and c.location and not c.location.startswith(prefix):
            c.location = prefix + c.location


def cmd_ecosystem(args) -> int:
    old, new = sides.resolve(args.old), sides.resolve(args.new)
    names = _ecosystem_names(args)
    if args.shard:
        if args.format not in ("text", "json") or args.griffe or args.annotations:
            raise CompatError("--shard writes the shard's JSON for `compat merge`: leave out --format, --griffe "
                              "and --annotations")
        mine = shards.select(names, args.shard)
        gathered = ecosystem.gather(old, new, mine, behaviour=not args.no_behaviour, lenient=args.all,
                                    jobs=args.downloads, progress=_progress)
        text = shards.ecosystem_shard(args.old, args.new, names, not args.no_behaviour, args.path_prefix, args.shard,
                                      gathered)
        if args.report:
            write_atomic(args.report, text)
            _progress(f"wrote shard {args.shard[0]}/{args.shard[1]} ({len(mine)} of {len(names)} packages) "
                      f"to {args.report}")
        else:
            sys.stdout.write(text)
        return 0
    result = ecosystem.run(old, new, names, behaviour=not args.no_behaviour, lenient=args.all, jobs=args.downloads,
                           progress=_progress)
    _located(result, new, args.path_prefix)
    for line in result.timings:
        _progress(f"  {line}")
    if args.griffe and args.format in ("text", "markdown"):
        _progress("running griffe.find_breaking_changes on the same bases")
        return _finish(result, args, ecosystem.griffe_side_by_side(result, old, new, markdown=args.format == "markdown"))
    return _finish(result, args)


def cmd_fuzz(args) -> int:
    return fuzz(args.old, args.new, max_examples=args.max_examples, seed=args.seed, storage=args.storage,
                progress=_progress)


def cmd_perf(args) -> int:
    return perf(args.old, args.new, threshold=args.threshold, rounds=args.rounds, storage=args.storage,
                subclass=args.subclass, progress=_progress)


def cmd_bisect(args) -> int:
    if args.behaviour:
        if args.rule:
            raise CompatError("--behaviour bisects causes, cells or dispatches: use --cause, --cell or --member, not --rule")
        started = time.perf_counter()
        located, rec = history_mod.bisect_behaviour(args.start, args.end, cause=args.cause, cell=args.cell,
                                                    member=args.member,
                                                    binary=args.binary, target=args.target, jobs=args.jobs,
                                                    cell_set=args.cells, progress=_progress)
        print(history_mod.render_bisect(located, rec, args.start, args.end, time.perf_counter() - started))
        return 0
    if args.cause or args.cell or args.binary:
        raise CompatError("--cause, --cell and --binary need --behaviour")
    located = bisect(args.start, args.end, target=args.target, rule=args.rule, member=args.member, progress=_progress)
    print(render(located, args.start, args.end))
    return 0


def cmd_history(args) -> int:
    started = time.perf_counter()
    if args.shard:
        if args.out or args.format != "text":
            raise CompatError("--shard prints the shard's JSON for `compat merge`: leave out --out and --format")
        sys.stdout.write(history_mod.history_shard(args.start, args.end, args.shard, target=args.target,
                                                   behaviour=not args.static_only, jobs=args.jobs,
                                                   cell_set=args.cells, progress=_progress))
        _progress(f"history shard {args.shard[0]}/{args.shard[1]} in {time.perf_counter() - started:.1f}s")
        return 0
    hist = history_mod.history(args.start, args.end, target=args.target, behaviour=not args.static_only,
                               jobs=args.jobs, cell_set=args.cells, progress=_progress)
    if args.out:
        for path in timeline.write_all(hist, Path(args.out)):
            _progress(f"wrote {path}")
    print(timeline.render(hist, args.format))
    _progress(f"history of {len(hist.releases)} releases in {time.perf_counter() - started:.1f}s")
    return 0


def cmd_merge(args) -> int:
    kind, read = shards.read_shards(args.shards)
    if kind == shards.HISTORY_SHARD:
        if args.format not in ("json", "markdown", "text"):
            raise CompatError(f"--format {args.format}: a history merges to json, markdown or text")
        hist = shards.merge_history(read)
        write_atomic(args.output, timeline.render(hist, args.format).rstrip("\n") + "\n")
        print(timeline.render(hist, "text"))
        return 0
    result, new, prefix = shards.merge_ecosystem(read, _progress)
    _located(result, new, prefix)
    args.report = args.output
    args.annotations = False
    return _finish(result, args)


def cmd_ecosystem_index(args) -> int:
    if not args.refresh:
        for p in downstream.read_list().packages:
            print(f"{p.name}\t{p.release}")
        return 0
    keep = downstream.read_list() if downstream.PACKAGES_FILE.exists() else None
    fresh = downstream.refresh_list(args.index_url, keep=keep, progress=_progress)
    path = downstream.write_list(fresh, Path(args.output) if args.output else downstream.PACKAGES_FILE)
    _progress(f"wrote {len(fresh.packages)} packages to {path}")
    return 0


def cmd_contract(args) -> int:
    text = contract_mod.contract(Baseline(args.baseline))
    if args.against:
        other = contract_mod.contract(Baseline(args.against))
        text = contract_mod.diff(other, text, f"{args.against} (contract)", f"{args.baseline} (contract)")
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 1 if args.against and text else 0


def cmd_mutate(args) -> int:
    if args.generated:
        return _mutate_generated(args)
    if args.sample is not None or args.operators or args.output or args.python or args.dagster_version:
        raise CompatError("--sample, --seed, --operators, --output, --python and --dagster-version go with --generated")
    outcomes = []
    for m in mutate.select(args.only):
        _progress(f"mutation {m.id}: {m.description}")
        outcomes.append(mutate.evaluate(m, args.baseline, behaviour=args.behaviour, jobs=args.jobs, full=args.full))
    print(mutate.kill_report(outcomes))
    return 0 if all(o.correct for o in outcomes) else 1


def _mutate_generated(args) -> int:
    """Generated mutants of the chosen dagster's instance code through the gate: the mutation score."""
    side = sides.from_options(python=args.python, dagster_version=args.dagster_version)
    root = mutate.dagster_root(None if side.installed else side.search_paths)
    everything = mutants.generate(root, args.operators)
    chosen = mutants.by_ids(everything, args.only) if args.only else mutants.sample(everything, args.sample, args.seed)
    _progress(f"{len(chosen)} of {len(everything)} generated mutants of {side.label}")
    report = mutate.ScoreReport(side.label, args.baseline, len(everything), list(args.operators or mutants.OPERATORS),
                                None if args.only else args.sample, args.seed, [], len(chosen))

    def text() -> str:
        out = dumps(report.as_dict(), 2) if args.format == "json" else report.render()
        return out if out.endswith("\n") else out + "\n"

    # in a seeded random order: a long run stopped early has checked an unbiased part of the sample
    # (in generation order it would have checked the first files only)
    order = chosen if args.only else random.Random(args.seed).sample(chosen, len(chosen))
    with mutate.Pristine(root) as pristine:
        for i, m in enumerate(order, 1):
            _progress(f"mutant {i}/{len(chosen)} {m.id}: {m.diff}")
            report.results.append(mutate.score_one(m, args.baseline, pristine=pristine,
                                                   side=None if side.installed else side, jobs=args.jobs, full=args.full))
            _progress(f"  {report.results[-1].verdict}")
            if args.output:  # after each mutant: a long run stopped early still leaves its report
                write_atomic(args.output, text())
    if args.output:
        _progress(f"report: {args.output}")
    else:
        print(text(), end="")
    return 0


def cmd_coverage(args) -> int:
    side = sides.from_options(python=args.python, dagster_version=args.dagster_version)
    python = os.path.abspath(side.python) if os.sep in side.python else side.python
    profiles = behaviour_coverage.load_profiles(sorted(Path(args.profiles).glob("*.json")))
    _progress(f"running the {args.cells} cells under coverage on {side.label}")
    report = behaviour_coverage.measure(python, cell_set=args.cells, jobs=args.jobs, target=args.target,
                                        profiles=profiles, scenarios=args.scenarios, subclasses=args.subclasses,
                                        storages=args.storages)
    if args.format == "json":
        text = dumps(report.as_dict(), 2)
    else:
        text = report.render(verbose=args.verbose)
    if args.output:
        write_atomic(args.output, text if text.endswith("\n") else text + "\n")
    else:
        print(text)
    return 0


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
    p.set_defaults(func=cmd_snapshot)


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
    p.set_defaults(func=cmd_diff)


def _witness_command(sub) -> None:
    p = sub.add_parser("witness", help="rerun the witness of a cause on both sides", epilog=SPEC_EPILOG)
    p.add_argument("cause_ids", nargs="+", metavar="CAUSE_ID", help="a cause id as reports print it (exports:dagster._core.instance)")
    p.add_argument("--old", required=True, metavar="SPEC", help="the old side")
    p.add_argument("--new", required=True, metavar="SPEC", help="the new side")
    p.add_argument("--show", action="store_true", help="print each witness program too")
    _add_witness_dir(p)
    _add_target(p)
    p.set_defaults(func=cmd_witness)


def _profile_command(sub) -> None:
    p = sub.add_parser("profile", help="profile the target's subclasses in a package or source tree")
    p.add_argument("package", help="an installed package name, a path, or NAME==VERSION to fetch")
    _add_target(p)
    p.add_argument("--python", metavar="PY", type=_named, help="find the package in this interpreter's sys.path "
                   "(default: this interpreter's)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="also write the profile JSON here, atomically (default: the summary only)")
    p.set_defaults(func=cmd_profile)


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
    p.set_defaults(func=cmd_baseline)


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
    p.set_defaults(func=cmd_accept)


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
    p.set_defaults(func=cmd_check)


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
    p.set_defaults(func=cmd_compare)


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
    p.set_defaults(func=cmd_ecosystem)


def _ecosystem_index_command(sub) -> None:
    p = sub.add_parser("ecosystem-index", help="the packages `compat ecosystem --all` checks: list or refresh them")
    p.add_argument("--refresh", action="store_true",
                   help="rebuild the list from the index: every project named *dagster* and how its releases "
                        "follow dagster's (one request per project)")
    p.add_argument("--index-url", metavar="URL",
                   help="a PEP 691 simple index (default: $PIP_INDEX_URL, $UV_INDEX_URL, else PyPI's)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="with --refresh: write the list here (default: the list shipped with compat)")
    p.set_defaults(func=cmd_ecosystem_index)


def _merge_command(sub) -> None:
    p = sub.add_parser("merge", help="join the shard files of one `ecosystem --shard` or `history --shard` run")
    p.add_argument("output", metavar="OUT", type=_output_file, help="the merged report, written atomically")
    p.add_argument("shards", metavar="SHARD", nargs="+", help="the N shard files of one run, in any order")
    p.add_argument("--format", choices=FORMATS, default="json",
                   help="the merged report's format: an ecosystem's any, a history's json, markdown or text "
                        "(default: %(default)s)")
    p.add_argument("--fail-on", choices=FAIL_ON, default="breaking",
                   help="an ecosystem: exit 1 when a cause is at least this severe (default: %(default)s)")
    p.set_defaults(func=cmd_merge)


def _fuzz_command(sub) -> None:
    p = sub.add_parser("fuzz", help="Hypothesis differential fuzzing of two dagsters", epilog=SPEC_EPILOG)
    p.add_argument("--old", required=True, metavar="SPEC", help="the reference side")
    p.add_argument("--new", required=True, metavar="SPEC", help="the side under review")
    p.add_argument("--max-examples", type=_at_least, default=100, help="programs Hypothesis tries (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="Hypothesis seed, for a reproducible search (default: %(default)s)")
    p.add_argument("--storage", choices=("memory", "sqlite", "both"), default="memory",
                   help="storages the programs run on (default: %(default)s)")
    p.set_defaults(func=cmd_fuzz)


def _perf_command(sub) -> None:
    p = sub.add_parser("perf", help="time hot instance methods through a subclass in two dagsters", epilog=SPEC_EPILOG)
    p.add_argument("--old", required=True, metavar="SPEC", help="the reference side")
    p.add_argument("--new", required=True, metavar="SPEC", help="the side under review")
    p.add_argument("--threshold", type=_ratio, default=0.25, help="flag new/old above 1+T (default: %(default)s)")
    p.add_argument("--rounds", type=_rounds, default=7, help="timing rounds per method; the median counts (default: %(default)s)")
    p.add_argument("--storage", choices=("memory", "sqlite"), default="sqlite", help="storage under the instance (default: %(default)s)")
    p.add_argument("--subclass", default="spy:create-run-tags",
                   help="corpus subclass to go through (default: %(default)s)")
    p.set_defaults(func=cmd_perf)


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
    p.set_defaults(func=cmd_mutate)


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
    p.set_defaults(func=cmd_coverage)


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
    p.set_defaults(func=cmd_bisect)


def _contract_command(sub) -> None:
    p = sub.add_parser("contract", help="the subclass contract of a baseline's target, as markdown")
    p.add_argument("--baseline", required=True, metavar="DIR", type=_named, help="the baseline to document")
    p.add_argument("--against", metavar="DIR",
                   help="print the unified diff from the contract of this baseline to --baseline's instead "
                        "(exit 1 when they differ) (default: the contract itself)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_file,
                   help="write the document (or the diff) here, atomically (default: stdout)")
    p.set_defaults(func=cmd_contract)


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
    p.set_defaults(func=cmd_history)


# the subcommands in the order `compat --help` lists them
_COMMANDS = (
    _snapshot_command, _diff_command, _witness_command, _profile_command, _baseline_command, _accept_command,
    _check_command, _compare_command, _ecosystem_command, _ecosystem_index_command, _merge_command,
    _fuzz_command, _perf_command, _mutate_command, _coverage_command, _bisect_command, _contract_command,
    _history_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="compat", description=__doc__, epilog=SPEC_EPILOG)
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

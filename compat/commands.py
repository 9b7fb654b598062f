"""What each `compat` subcommand does, given its parsed arguments: the command line's grammar,
its usage errors and its exit-code policy are `compat/cli.py`'s, which hands each command here.

A command reads its sides, runs the pipeline or a tool, and prints or writes the result; it
returns the exit code (0 compatible, 1 incompatible) and raises `CompatError` for a harness
error, which the CLI prints as one line (exit 2).
"""

from __future__ import annotations

import os
import random
import sys
import textwrap
import time
from pathlib import Path

from compat import downstream, pipeline, returns, sides
from compat import witness as witness_mod
from compat.baseline import Baseline
from compat.behaviour import coverage as behaviour_coverage
from compat.behaviour.replay import plan_cells
from compat.causes import build_causes
from compat.catalogue import RULES
from compat.fuzz.differential import fuzz
from compat.gate import accepted as accepted_mod
from compat.model.baseline import surface_label
from compat.model.errors import CompatError
from compat.model.jsonio import dumps, write_atomic
from compat.model.profile import write_profile
from compat.record import copy_baseline, record_baseline
from compat.result import CheckResult
from compat.static.diff import compare_surfaces
from compat.static.extract import read_surface, side_surface, snapshot, write_surface
from compat.static.griffe_compare import griffe_findings, side_by_side
from compat.static.profile import profile_source
from compat.tools import contract as contract_mod
from compat.tools import ecosystem, mutants, mutate, shards, timeline
from compat.tools import history as history_mod
from compat.tools.bisect import bisect, render
from compat.tools.perf import perf


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

"""Scaffold a new surface rule as one unit: its entry, its fixture pair, its near miss, its docs.

    python -m compat.tools.new_rule RULE_ID --family FAMILY [--severity S] [--audience A]

Appends a ``@rule`` to the module of its family in ``compat/rules/`` (the registry knows which
module holds a family) and regenerates ``docs/rules.md`` with its entry. The scaffolded rule
reports nothing yet: its fixture is a class pair to edit into the change the rule is about and
its near miss a close change it must not report, and ``tests/test_registry.py`` fails until the
detection reports the one and not the other. The texts to write are marked TODO. A bad id or
family is one line and exit code 2, with nothing written.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import compat
from compat.catalogue import RULES, all_rules
from compat.model.errors import CompatError
from compat.model.findings import AUDIENCES, BOTH, SEVERITIES, WARNING
from compat.model.jsonio import write_atomic
from compat.rules.registry import _ID as RULE_ID, LAYER_FAMILIES, SURFACE, Rule

ROOT = Path(compat.__file__).resolve().parent.parent  # the checkout this compat runs from

_TEMPLATE = '''

@rule(
    id="{id}",
    severity="{severity}",
    audience="{audience}",
    family="{family}",
    summary="TODO: what changed, in one line.",
    explanation="TODO: what breaks, for whom.",
    why_subclasses="TODO: what a subclass of the class feels.",
    fix="TODO: how the maintainer keeps it compatible.",
    # the fixture: edit the new side into the change this rule reports
    example_old="""
        class Instance:
            def get_run_by_id(self, run_id): ...
    """,
    example_new="""
        class Instance:
            def get_run_by_id(self, run_id): ...
    """,
    # the near miss: a close change it must not report
    near_about="TODO: the close change that is not this one",
    near_old="""
        class Instance:
            def get_run_by_id(self, run_id): ...
    """,
    near_new="""
        class Instance:
            def get_run_by_id(self, run_id): ...
    """,
)
def {function}(ctx: DiffContext):
    # TODO: yield ctx.hit(name, message, old=old, new=new) for each member the change shows in
    # (ctx.common, ctx.removed, ctx.added): tests/test_registry.py runs the fixture and near miss
    return iter(())
'''


def family_module(family: str) -> Path:
    """The file of `family`'s surface rules, as the registry knows it from the rules it holds."""
    if family not in LAYER_FAMILIES[SURFACE]:
        raise CompatError(f"unknown surface family {family!r}; known: {', '.join(LAYER_FAMILIES[SURFACE])}")
    rules: list[Rule] = [r for r in all_rules(SURFACE) if r.family == family]
    modules = sorted({r.check.__module__ for r in rules if r.check is not None})
    if len(modules) != 1:
        raise CompatError(f"surface family {family!r} has no single module of rules to add to")
    return ROOT / Path(*modules[0].split(".")).with_suffix(".py")


def scaffold(rule_id: str, family: str, severity: str = WARNING, audience: str = BOTH) -> Path:
    """Append the new rule to its family's module and regenerate docs/rules.md; the module's path."""
    if rule_id in RULES:
        raise CompatError(f"rule {rule_id!r} exists already ({RULES[rule_id].layer}, family {RULES[rule_id].family})")
    if not RULE_ID.match(rule_id):
        raise CompatError(f"rule id {rule_id!r}: ids are kebab-case (lower-case words joined by -)")
    if severity not in SEVERITIES:
        raise CompatError(f"unknown severity {severity!r}; known: {', '.join(SEVERITIES)}")
    if audience not in AUDIENCES:
        raise CompatError(f"unknown audience {audience!r}; known: {', '.join(AUDIENCES)}")
    module = family_module(family)
    text = module.read_text(encoding="utf-8")
    if "DiffContext" not in text or "rule" not in text:
        raise CompatError(f"{module}: does not import rule and DiffContext from compat.rules.base")
    new_text = text.rstrip("\n") + "\n" + _TEMPLATE.format(
        id=rule_id, severity=severity, audience=audience, family=family, function=rule_id.replace("-", "_"))
    write_atomic(module, new_text)
    # the docs from a fresh interpreter, which registers the new rule from this same checkout
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([sys.executable, "-m", "compat.catalogue.docs", "--write"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        write_atomic(module, text)  # leave the module as it was
        last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CompatError(f"docs/rules.md could not be regenerated with {rule_id}: {last}")
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compat.tools.new_rule", description=__doc__.split("\n", 1)[0])
    parser.add_argument("rule_id", help="the new rule's stable kebab-case id")
    parser.add_argument("--family", required=True, help=f"its surface family: {', '.join(LAYER_FAMILIES[SURFACE])}")
    parser.add_argument("--severity", default=WARNING, help=f"its usual severity (default: {WARNING})")
    parser.add_argument("--audience", default=BOTH, help=f"who it concerns (default: {BOTH})")
    args = parser.parse_args(argv)
    try:
        module = scaffold(args.rule_id, args.family, args.severity, args.audience)
    except CompatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rel = module.relative_to(ROOT).as_posix()
    print(f"{args.rule_id}: added to {rel} and docs/rules.md. Next: write its TODOs and detection, raise the "
          f"surface count in tests/test_registry.py, run python -m compat.catalogue.docs --write again, and run "
          f"tests/test_registry.py and tests/test_rules.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())

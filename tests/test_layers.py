"""The layers declared in pyproject.toml ([tool.importlinter]) hold, and their exceptions only shrink.

import-linter checks every import of the package, deferred (in-function) imports included,
against the contracts: a layer may import the layers below it and never those above, and the
producers do not import each other. Today's exceptions are listed there as ``ignore_imports``;
:data:`IGNORED_IMPORTS` is the ratchet on their number: a new exception fails here, and a removed
one asks for the number to be lowered, so the list can only get shorter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
# the number of ignore_imports over all contracts; lower it when you remove one, never raise it
IGNORED_IMPORTS = 0


def _config(pyproject: Path = ROOT / "pyproject.toml") -> dict:
    return tomllib.loads(pyproject.read_text())["tool"]["importlinter"]


def _ignored(config: dict) -> list[str]:
    return [imp for contract in config["contracts"] for imp in contract.get("ignore_imports", [])]


def _lint(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the package found in `root` (its current directory comes first on the
    import path), without a cache so that nothing is written into the tree."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "lint-imports is not installed: `make setup` installs the dev extra (pyproject.toml)"
    return subprocess.run([exe, "--no-cache", "--no-logo"], cwd=root, capture_output=True, text=True)


def test_the_contracts_are_kept():
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_ignored_imports_only_shrink():
    ignored = _ignored(_config())
    per_contract = [c.get("ignore_imports", []) for c in _config()["contracts"]]
    assert all(len(set(imps)) == len(imps) for imps in per_contract), "an import is ignored twice in one contract"
    assert len(ignored) <= IGNORED_IMPORTS, (
        f"{len(ignored)} ignored imports in pyproject.toml, more than the {IGNORED_IMPORTS} allowed: "
        "an import against the layers is a design change, not an exception to add")
    assert len(ignored) == IGNORED_IMPORTS, (
        f"{len(ignored)} ignored imports left: lower IGNORED_IMPORTS in tests/test_layers.py to {len(ignored)}")


def test_every_module_is_in_a_layer():
    """A new module or package has to be placed: one outside every layer is unchecked."""
    config = _config()
    layers = next(c for c in config["contracts"] if c["type"] == "layers")
    (container,) = layers["containers"]
    named = {f"{container}.{name.strip()}" for layer in layers["layers"]
             for name in layer.replace("|", ":").split(":")}
    graph = grimp.build_graph(config["root_package"], cache_dir=None)

    def placed(module: str) -> bool:
        if any(module == n or module.startswith(n + ".") for n in named):
            return True
        children = graph.find_children(module)  # a package split over layers, like compat.gate
        return bool(children) and all(placed(c) for c in children)

    unplaced = sorted(m for m in graph.modules if m != container and not placed(m))
    assert not unplaced, f"modules in no layer of pyproject.toml's layers contract: {unplaced}"


def test_an_import_against_the_layers_breaks_the_contract(tmp_path):
    """The check can fail: the data layer importing the CLI, in a copy of the package, is found
    (a deferred import, the kind a review misses)."""
    shutil.copytree(ROOT / "compat", tmp_path / "compat", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    errors = tmp_path / "compat" / "model" / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _late():\n    from compat import cli  # noqa: F401\n")
    run = _lint(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "compat.model.errors -> compat.cli" in run.stdout


def test_an_ignored_import_that_no_longer_exists_breaks_the_contract(tmp_path):
    """An exception whose import was removed must leave the list with it (so the ratchet follows)."""
    shutil.copytree(ROOT / "compat", tmp_path / "compat", ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "pyproject.toml").read_text()
    stale = 'ignore_imports = ["compat.model.errors -> compat.cli"]\n'
    (tmp_path / "pyproject.toml").write_text(text.replace('containers = ["compat"]\n', 'containers = ["compat"]\n' + stale, 1))
    assert len(_ignored(_config(tmp_path / "pyproject.toml"))) == len(_ignored(_config())) + 1
    run = _lint(tmp_path)
    assert run.returncode != 0, run.stdout + run.stderr
    assert "compat.model.errors -> compat.cli" in run.stdout + run.stderr

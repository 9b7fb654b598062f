"""The documentation stays a short README that leads to guides, and every link in it resolves.

The README is the first page anyone reads: it must stay short (the rest lives in `docs/`), its
first code block must be the two commands that set up and run the harness, and no relative link
of the README, of `docs/` or of the benchmark results may lead nowhere. Links and code blocks are
read with markdown-it-py (a CommonMark parser), so a link written inside a code block is not a
link and a fenced block is found however it is fenced.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_LIMIT = 8_000
PAGES = sorted([README, ROOT / "bench" / "RESULTS.md", *(ROOT / "docs").rglob("*.md")])



def _tokens(path: Path):
    return MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))


def _links(path: Path) -> list[str]:
    out = []
    for tok in _tokens(path):
        for child in tok.children or []:
            if child.type == "link_open":
                out.append(str(child.attrs["href"]))
            elif child.type == "image":
                out.append(str(child.attrs["src"]))
    return out


def _relative_targets(path: Path) -> list[tuple[str, Path]]:
    """(link, file it names) for every link of `path` that is neither a URL nor an anchor."""
    out = []
    for href in _links(path):
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path:
            continue  # https://..., mailto:..., or #anchor within the page
        out.append((href, (path.parent / unquote(parts.path)).resolve()))
    return out


def test_the_readme_is_short():
    size = len(README.read_text(encoding="utf-8"))
    assert size < README_LIMIT, f"README.md has {size} characters; move detail into docs/ (limit {README_LIMIT})"


def test_the_readmes_first_code_block_is_the_two_commands():
    fences = [t for t in _tokens(README) if t.type in ("fence", "code_block")]
    assert fences, "README.md has no code block"
    commands = [line.split("#", 1)[0].strip() for line in fences[0].content.splitlines()]
    assert [c for c in commands if c] == ["make check", "make test"]


def test_the_two_commands_are_make_targets():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    for target in ("check", "test"):
        assert any(line.startswith(f"{target}:") for line in makefile), f"the Makefile has no `{target}` target"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_to_a_file(page):
    broken = []
    for href, target in _relative_targets(page):
        if not target.is_file():
            broken.append(href)
    assert broken == [], f"{page.relative_to(ROOT)}: links to missing files: {broken}"


def test_the_readme_links_every_guide():
    linked = {target for _, target in _relative_targets(README)}
    guides = sorted((ROOT / "docs" / "users").glob("*.md")) + sorted((ROOT / "docs" / "contributors").glob("*.md"))
    assert guides, "docs/users/ and docs/contributors/ hold no guide"
    missing = [g.relative_to(ROOT).as_posix() for g in guides if g.resolve() not in linked]
    assert missing == [], f"README.md does not link: {missing}"


def test_the_readme_links_the_reference_pages():
    linked = {target.relative_to(ROOT).as_posix() for _, target in _relative_targets(README)}
    for page in ("docs/rules.md", "docs/contract.md", "docs/change-aware-replay.md", "docs/severity.md",
                 "docs/users/ci.md", "docs/users/security.md", "bench/RESULTS.md"):
        assert page in linked, f"README.md does not link {page}"


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[ok](page.md), [gone](missing.md#part), [web](https://example.org), [here](#top)\n\n"
                    "```\n[not a link](nowhere.md)\n```\n", encoding="utf-8")
    targets = _relative_targets(page)
    assert [href for href, _ in targets] == ["page.md", "missing.md#part"]
    assert [t.is_file() for _, t in targets] == [True, False]

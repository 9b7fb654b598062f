"""Text from strangers, made safe to show: names in a baseline or a class under test are data.

A right-to-left override (U+202E) in a member name would make a report show another name than
the one it holds, a terminal escape would rewrite the lines above it, and a lone surrogate (JSON
allows `"\\ud800"`) cannot be written as UTF-8 at all. Every report and every line the harness
prints passes through :func:`escape_unsafe`, which writes such characters as `\\u202e`; the
JSON reader refuses a lone surrogate outright (:func:`lone_surrogate`).
"""

from __future__ import annotations

import re

# control characters but newline and tab; bidi embeddings, overrides and isolates; invisible
# format characters (zero-width, word joiners, the BOM, interlinear annotations); line and
# paragraph separators; surrogates; tag characters
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                    "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape_unsafe(text: str) -> str:
    """``text`` with every character that could spoof or break what is shown written as an escape."""
    return UNSAFE.sub(_escaped, text)


def lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in ``text``, escaped (`\\ud800`), or None."""
    m = _SURROGATE.search(text)
    return _escaped(m) if m else None

"""MariaDB/MySQL comparison rules that both emulated PHP systems inherit from their database.

Both MagnusBilling and IXC keep text in case- and accent-insensitive collations, so `=` and
`LIKE` ignore case and accents, `=` ignores trailing spaces, and rows that tie on the ORDER BY
column come back in no defined order. The sandboxes reproduce that instead of Python's exact
string semantics, so that a client relying on an accident (e.g. a stable tie order) fails here.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

Row = Mapping[str, Any]


def fold(text: str) -> str:
    """utf8_general_ci equivalence: case- and accent-insensitive."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def collate(text: str) -> str:
    """The sort/equality key of a text value (PAD SPACE: trailing spaces do not count)."""
    return fold(text.rstrip(" "))


def like_regex(pattern: str) -> re.Pattern[str]:
    """A regex equivalent to `LIKE pattern` (% and _ wildcards, backslash escape), on fold()."""
    parts: list[str] = []
    escaped = False
    for char in fold(pattern):
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append({"%": ".*", "_": "."}.get(char) or re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def sign_of(a: Any, b: Any) -> int:
    """-1, 0 or 1 as a compares to b."""
    return (a > b) - (a < b)


def order_rows(
    rows: list[Any],
    key: Callable[[Any], Any],
    *,
    descending: bool,
    rng: random.Random | None,
) -> None:
    """Sort in place; with `rng`, rows tying on `key` come out in a fresh random order."""
    if rng is not None:
        rng.shuffle(rows)
    rows.sort(key=key, reverse=descending)

"""The languages operators read, and how a text offered in each is picked.

The external systems' blocks (the Discord block's `language`) and their problems
(`blocks.problems`) need them; each domain's texts catalogue (`contract_sync.texts`,
`subscription_events.texts`) builds on them.
"""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["pt-BR", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "pt-BR"


def in_language(language: str, text: tuple[str, str]) -> str:
    """The `(pt-BR, en)` text in `language` (pt-BR for any language not offered)."""
    pt_br, english = text
    return english if language == "en" else pt_br

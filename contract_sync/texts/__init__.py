"""Every text an operator reads from contract-sync, in each language it speaks (pt-BR first).

Discord messages, the run report, the approval form, alerts and state messages all take their
words from here, so a language is complete or it is not offered. Each entry is
(pt-BR, en); values are filled in with `str.format`. The entries live by area, one module each;
`CATALOGUE` is all of them, the clients' problems (blocks/problems.py) included.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from blocks.language import DEFAULT_LANGUAGE, LANGUAGES, Language, in_language
from blocks.problems import PROBLEMS
from contract_sync.texts import (
    approval,
    automations,
    decisions,
    discord,
    explain,
    failures,
    holds,
    logs,
    report,
    writing,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Language",
    "format_moment",
    "label",
    "say",
    "template",
]

AREAS: tuple[dict[str, tuple[str, str]], ...] = (
    decisions.TEXTS,
    discord.TEXTS,
    report.TEXTS,
    approval.TEXTS,
    PROBLEMS,
    writing.TEXTS,
    failures.TEXTS,
    automations.TEXTS,
    logs.TEXTS,
    holds.TEXTS,
    explain.TEXTS,
)
CATALOGUE: dict[str, tuple[str, str]] = {key: text for area in AREAS for key, text in area.items()}


def template(language: str, key: str) -> str:
    """The text `key` in `language` (pt-BR for any language not offered), not filled in."""
    return in_language(language, CATALOGUE[key])


def say(language: str, key: str, **values: object) -> str:
    """The text `key` in `language`, filled in."""
    return template(language, key).format(**values)


def label(language: str, kind: str, value: object) -> str:
    """An enum value's label (`label("pt-BR", "action", Action.BLOCK)` -> "Bloqueio")."""
    return say(language, f"{kind}.{value}")


def format_moment(moment: datetime, zone: tzinfo, language: str) -> str:
    """A time as operators read it, in the provider's zone: `05/12/2026 10:00 (-03)`."""
    local = moment.astimezone(zone)
    pattern = "%Y-%m-%d %H:%M" if language == "en" else "%d/%m/%Y %H:%M"
    return f"{local:{pattern}} ({local.tzname()})"

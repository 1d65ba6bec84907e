"""A failure as operators read it, in their language.

Clients raise errors that carry a code and values (blocks/errors.py) and speak no operator's
language; this is where they are put into words for a report, an alert or a command.
"""

from __future__ import annotations

from blocks.errors import ApiError, Problem


def failure_problem(error: BaseException) -> Problem:
    """A client error by its code; anything else by its type only (its text may quote a
    secret URL)."""
    if isinstance(error, ApiError):
        return error.problem
    return Problem("unexpected", {"kind": type(error).__name__})


def failure_text(error: BaseException, language: str) -> str:
    return failure_problem(error).describe(language)

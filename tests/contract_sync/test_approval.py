"""What an approval's answer means for the changes, and what a dry run says about approval."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contract_sync.approval import Answer, Decision, dry_run_note
from contract_sync.guard import GuardVerdict

AT = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
WHY = "30 bloqueios"


def test_an_approval_refuses_nothing() -> None:
    assert Answer(Decision.APPROVED, "conferido", AT).refusal(WHY, 3300, "pt-BR") is None


@pytest.mark.parametrize(
    ("answer", "language", "said"),
    [
        (Answer(Decision.TIMED_OUT, "", AT), "pt-BR", "30 bloqueios; sem aprovação em 3300 s"),
        (Answer(Decision.TIMED_OUT, "", AT), "en", "30 bloqueios; no approval within 3300 s"),
        (
            Answer(Decision.REJECTED, "IXC fora do ar", AT),
            "pt-BR",
            "30 bloqueios; rejeitado pelo operador (IXC fora do ar)",
        ),
        (
            Answer(Decision.REJECTED, "", AT),
            "en",
            "30 bloqueios; rejected by the operator (no note)",
        ),
    ],
)
def test_a_timeout_or_a_rejection_says_why_nothing_is_written(
    answer: Answer, language: str, said: str
) -> None:
    assert answer.refusal(WHY, 3300, language) == said


@pytest.mark.parametrize(
    ("harmful", "said"),
    [
        (31, "Uma execução real precisaria de aprovação: 31 bloqueio(s)"),
        (30, "Uma execução real não precisaria de aprovação (30 bloqueio(s)"),
    ],
)
def test_a_dry_run_says_whether_a_real_run_would_need_approval(harmful: int, said: str) -> None:
    note = dry_run_note(GuardVerdict(harmful=harmful, managed=300, limit=30), "pt-BR")
    assert note.startswith(said)
    assert "(limite sem aprovação: 30)" in note

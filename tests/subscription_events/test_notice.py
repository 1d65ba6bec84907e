"""The team's Discord notice for a run with failed or newly held events, as a plain function."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from blocks.discord.models import MAX_DESCRIPTION
from blocks.gym_erp.rows import EventStatus
from subscription_events.lanes import EventResult
from subscription_events.notice import FIRST_REASONS, run_notice
from subscription_events.report import EventsRunReport


def result(guid: str, status: EventStatus, description: str, **changes: Any) -> EventResult:
    done = EventResult(
        id_guid=guid,
        sigla="A_N",
        dt_evento=datetime(2026, 11, 22, 8, 0),
        chain="assinatura:100",
        status=status,
        description=description,
        customer="Ana Souza",
        id_api=None,
        value=Decimal(0),
    )
    return replace(done, **changes)


def test_no_notice_when_nothing_failed_nor_was_newly_held() -> None:
    report = EventsRunReport(
        [result("a", "P", "A_N: assinatura criada"), result("b", "N", "A_EDP: aguardando ...")],
        held_not_listed=40,
    )
    assert run_notice(report, "pt-BR", "run-1") is None


def test_the_notice_carries_counts_and_the_first_reasons_in_portuguese() -> None:
    failures = [result(f"e{n}", "E", f"A_N: motivo {n}") for n in range(7)]
    held = result("h", "N", "IA_N: aguardando o evento anterior A_N e0", newly_held=True)
    earlier = result("old", "N", "A_EDP: aguardando desde antes")
    report = EventsRunReport([*failures, held, earlier, result("p", "P", "ok")], held_not_listed=3)

    message = run_notice(report, "pt-BR", "pacient-otter")

    assert message is not None
    (embed,) = message.embeds
    assert embed.title == "subscription-events (pacient-otter): 7 evento(s) com erro, 1 retido(s)"
    shown = [line for line in embed.description.splitlines() if "motivo" in line]
    assert shown == [f"- Ana Souza (`e{n}`): A_N: motivo {n}" for n in range(FIRST_REASONS)]
    assert "… e mais 2" in embed.description
    assert "IA_N: aguardando o evento anterior A_N e0" in embed.description
    assert "desde antes" not in embed.description
    assert {field.name: field.value for field in embed.fields} == {
        "Com erro": "7",
        "Passaram a aguardar": "1",
        "Aguardando no total": "5",  # 2 listed + 3 not read
        "Processados": "1",
    }
    assert len(embed.description) <= MAX_DESCRIPTION


def test_the_notice_in_english_quotes_the_reasons_in_portuguese() -> None:
    failures = [result(f"e{n}", "E", f"A_N: motivo {n}") for n in range(6)]
    held = result("h", "N", "IA_N: aguardando o evento anterior A_N e0", newly_held=True)
    report = EventsRunReport([*failures, held, result("p", "P", "ok")])

    message = run_notice(report, "en", "pacient-otter")

    assert message is not None
    (embed,) = message.embeds
    assert embed.title == "subscription-events (pacient-otter): 6 event(s) failed, 1 held back"
    assert embed.description.splitlines() == [
        "**First failures**",
        *(f"- Ana Souza (`e{n}`): A_N: motivo {n}" for n in range(FIRST_REASONS)),
        "… and 1 more",
        "**Held behind a failure**",
        "- Ana Souza (`h`): IA_N: aguardando o evento anterior A_N e0",
        "",
        "Fix the data and set the failed event back to N; the held ones follow it.",
    ]
    assert {field.name: field.value for field in embed.fields} == {
        "Failed": "6",
        "Newly held back": "1",
        "Waiting in all": "1",
        "Processed": "1",
    }


def test_a_language_not_offered_reads_portuguese() -> None:
    report = EventsRunReport([result("e", "E", "A_N: cliente 2 sem CPF/CNPJ válido")])
    message = run_notice(report, "xx", "run")
    assert message is not None
    assert message.embeds[0].title == "subscription-events (run): 1 evento(s) com erro, 0 retido(s)"

"""The run report (summary and table artifacts) in the run's language; the reasons quoted as
written to `rec_log_sync`, in Portuguese, whatever the language."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from string import Formatter
from typing import Any

import pytest

from blocks.gym_erp.rows import EventStatus
from subscription_events.lanes import EventResult
from subscription_events.report import EventsRunReport
from subscription_events.texts import TEXTS

USED_KEY = re.compile(r"""\bsay\(\s*[\w.]+,\s*["']([a-z_]+\.[A-Za-z_]+)["']""")


def result(guid: str, status: EventStatus, description: str, **changes: Any) -> EventResult:
    done = EventResult(
        id_guid=guid,
        sigla="A_N",
        dt_evento=datetime(2026, 11, 22, 8, 5, 9),
        chain="assinatura:100",
        status=status,
        description=description,
        customer="Ana Souza",
        id_api=None,
        value=Decimal("89.9"),
    )
    return replace(done, **changes)


REPORT = EventsRunReport(
    [
        result("p1", "P", "A_N: assinatura criada", id_api="sub_1"),
        result("e1", "E", "A_N: cliente 1 sem CPF/CNPJ válido", chain="assinatura:200"),
        result("n1", "N", "A_C: aguardando o evento anterior A_N e1", chain="assinatura:200"),
    ],
    held_not_listed=2,
)


def test_the_summary_in_portuguese() -> None:
    assert REPORT.markdown("pt-BR") == (
        "# Eventos Mundipagg\n"
        "\n"
        "3 evento(s) de 2 assinatura(s)/cliente(s): **1 processado(s)**, **1 com erro**, "
        "**3 aguardando** um evento anterior que falhou.\n"
        "\n"
        "## Com erro\n"
        "\n"
        "- `e1` (assinatura:200) Ana Souza: A_N: cliente 1 sem CPF/CNPJ válido\n"
        "\n"
        "## Aguardando\n"
        "\n"
        "- `n1` (assinatura:200) Ana Souza: A_C: aguardando o evento anterior A_N e1\n"
        "\n"
        "E mais 2 evento(s) aguardando, não listados.\n"
        "\n"
        "Os motivos são os gravados em rec_log_sync.\n"
    )


def test_the_summary_in_english_quotes_the_reasons_in_portuguese() -> None:
    assert REPORT.markdown("en") == (
        "# Mundipagg events\n"
        "\n"
        "3 event(s) of 2 subscription(s)/customer(s): **1 processed**, **1 failed**, "
        "**3 waiting** for an earlier event that failed.\n"
        "\n"
        "## Failed\n"
        "\n"
        "- `e1` (assinatura:200) Ana Souza: A_N: cliente 1 sem CPF/CNPJ válido\n"
        "\n"
        "## Waiting\n"
        "\n"
        "- `n1` (assinatura:200) Ana Souza: A_C: aguardando o evento anterior A_N e1\n"
        "\n"
        "And 2 more event(s) waiting, not listed.\n"
        "\n"
        "The reasons are quoted as written to the ERP's rec_log_sync, in Portuguese for the "
        "gym's staff.\n"
    )


def test_a_run_with_nothing_failed_nor_held_lists_nothing() -> None:
    report = EventsRunReport([result("p1", "P", "A_N: assinatura criada")])
    assert report.markdown("en") == (
        "# Mundipagg events\n\n1 event(s) of 1 subscription(s)/customer(s): **1 processed**, "
        "**0 failed**, **0 waiting** for an earlier event that failed.\n"
    )


def test_the_table_in_portuguese() -> None:
    assert REPORT.table("pt-BR")[0] == {
        "evento": "e1",
        "data": "22/11/2026 08:05:09",
        "sigla": "A_N",
        "grupo": "assinatura:200",
        "resultado": "erro",
        "cliente": "Ana Souza",
        "id_api": "",
        "valor": "89.90",
        "motivo": "A_N: cliente 1 sem CPF/CNPJ válido",
    }


def test_the_table_in_english() -> None:
    table = REPORT.table("en")
    assert table[0] == {
        "event": "e1",
        "date": "2026-11-22 08:05:09",
        "code": "A_N",
        "chain": "assinatura:200",
        "result": "failed",
        "customer": "Ana Souza",
        "gateway id": "",
        "value": "89.90",
        "reason": "A_N: cliente 1 sem CPF/CNPJ válido",
    }
    assert [(row["event"], row["result"]) for row in table] == [
        ("e1", "failed"), ("n1", "pending"), ("p1", "processed"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "line"),
    [
        (
            "pt-BR",
            "- `w1` (assinatura:100) (cliente desconhecido): A_EDP: aguardando outra execução, "
            "que está processando A_N e9",
        ),
        (
            "en",
            "- `w1` (assinatura:100) (unknown customer): A_EDP: waiting for another run, which is "
            "processing A_N e9",
        ),
    ],
)
def test_an_event_waiting_for_another_run_is_said_in_the_run_language(
    language: str, line: str
) -> None:
    # Nothing of it is written to rec_log_sync (the other run writes), so nothing stays Portuguese.
    waiting = result("w1", "N", "", sigla="A_EDP", customer=None, other_run_has="A_N e9")
    assert line in EventsRunReport([waiting]).markdown(language).splitlines()


def test_a_language_not_offered_reads_portuguese() -> None:
    assert REPORT.markdown("xx") == REPORT.markdown("pt-BR")
    assert REPORT.table("xx") == REPORT.table("pt-BR")


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_text_fills_in_the_same_values_in_both_languages(key: str) -> None:
    pt_br, english = TEXTS[key]
    assert pt_br and english
    assert placeholders(pt_br) == placeholders(english)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_key_the_events_code_uses_exists() -> None:
    root = Path(__file__).resolve().parents[2]
    sources = [
        *(root / "subscription_events").rglob("*.py"),
        *(root / "tasks" / "subscription_events").rglob("*.py"),
        root / "flows" / "subscription_events.py",
    ]
    used = {key for path in sources for key in USED_KEY.findall(path.read_text())}
    assert used, "the pattern finds the calls"
    assert sorted(used - set(TEXTS)) == []

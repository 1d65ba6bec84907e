"""What operators read is complete in each language and never shows the code's own names."""

from __future__ import annotations

import re
from pathlib import Path
from string import Formatter
from typing import get_args

import pandas as pd
import pytest

from blocks.ixc.client import ReadingStrategy
from contract_sync.decide import Action
from contract_sync.outcome import ChangeOutcome, Result
from contract_sync.report import RunReport
from contract_sync.texts import AREAS, CATALOGUE, LANGUAGES, label, say

ROOT = Path(__file__).resolve().parents[2]
USED_KEY = re.compile(r"""\b(?:say|template)\(\s*[\w.]+,\s*["']([a-z_]+\.[A-Za-z_]+)["']""")
RAW_NAMES = {str(a) for a in Action} | {str(r) for r in Result}


def fields(text: str) -> set[tuple[str, str, str]]:
    return {
        (name, spec, conversion or "")
        for _, name, spec, conversion in Formatter().parse(text)
        if name
    }


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_text_exists_in_every_language_with_the_same_blanks(key: str) -> None:
    pt_br, english = CATALOGUE[key]
    assert pt_br.strip() and english.strip()
    assert fields(pt_br) == fields(english)


def test_no_two_areas_give_the_same_key() -> None:
    """The catalogue is the areas merged: a key in two of them would lose one text silently."""
    keys = [key for area in AREAS for key in area]
    assert sorted(key for key in set(keys) if keys.count(key) > 1) == []
    assert len(CATALOGUE) == len(keys)


def test_every_key_the_code_uses_exists() -> None:
    used = {
        key
        for package in ("contract_sync", "tasks", "flows", "deployments", "blocks", "sandbox")
        for path in (ROOT / package).rglob("*.py")
        if "subscription_events" not in path.parts  # its own catalogue (its tests check it)
        for key in USED_KEY.findall(path.read_text())
    }
    assert used, "the pattern finds the calls"
    assert sorted(used - set(CATALOGUE)) == []


def test_every_action_and_result_has_a_label() -> None:
    for language in LANGUAGES:
        assert all(label(language, "action", a) for a in Action)
        assert all(label(language, "result", r) for r in Result)
        assert all(say(language, f"count.{r}", n=1) for r in Result)
        assert all(label(language, "ixc_strategy", s) for s in get_args(ReadingStrategy))


def report_with_everything(language: str) -> RunReport:
    actions = list(Action)
    plan = pd.DataFrame(
        {
            "magnus_id": range(1, len(actions) + 1),
            "username": [f"u{n}" for n in range(len(actions))],
            "customer": "Cliente",
            "document": "",
            "contract_ref": "10",
            "contract_id": pd.array([10] * len(actions), dtype="Int64"),
            "magnus_active": pd.array([1] * len(actions), dtype="Int64"),
            "target_active": pd.array([4] * len(actions), dtype="Int64"),
            "ixc_status": "A",
            "ixc_status_internet": "CA",
            "action": actions,
            "reason": "motivo",
            "duplicate_contract": False,
        }
    )
    outcomes = {
        n: ChangeOutcome(magnus_id=n, result=result, detail="detalhe")
        for n, result in enumerate(Result, start=1)
    }
    return RunReport(plan=plan, dry_run=False, language=language, outcomes=outcomes)


def test_a_pt_br_report_shows_no_raw_enum_names() -> None:
    report = report_with_everything("pt-BR")
    texts = [report.headline(), report.markdown()]
    texts += [" ".join(map(str, row.values())) for row in report.table_rows()]
    texts += [" ".join(row) for row in report.table_rows()]  # the column names
    shown = " ".join(texts)
    assert sorted(n for n in RAW_NAMES if re.search(rf"\b{re.escape(n)}\b", shown)) == []


def test_the_english_report_is_english() -> None:
    report = report_with_everything("en")
    assert "customers:" in report.headline()
    assert "## Decisions" in report.markdown()
    assert {"customer", "action", "result"} <= set(report.table_rows()[0])


def test_a_table_row_reads_back_into_the_codes_names() -> None:
    for language in LANGUAGES:
        report = report_with_everything(language)
        rows = [RunReport.read_row(row, language) for row in report.table_rows()]
        assert [row["action"] for row in rows] == list(Action)
        assert [row["result"] for row in rows] == list(Result)
        assert {row["detail"] for row in rows} == {"detalhe"}

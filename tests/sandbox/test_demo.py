"""What `make demo` shows: runs with their logs and a retry in `make ui`, operators' words."""

from __future__ import annotations

import importlib
import os

import pytest
from prefect.logging.configuration import DEFAULT_LOGGING_SETTINGS_PATH, load_logging_config
from prefect.states import Cancelled, Completed, Failed

import sandbox.demo as demo
from blocks.errors import ServerError
from sandbox.faults import FaultKind
from sandbox.stack import running_stack
from sandbox.world import synthetic_provider
from tasks.retries import only_transient

QUIET_CONSOLE = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"


def test_the_terminal_is_kept_to_warnings_but_the_runs_keep_their_logs(monkeypatch):
    for name in ("PREFECT_LOGGING_LEVEL", QUIET_CONSOLE):
        monkeypatch.setenv(name, "unset")  # restored after the test, whatever the demo sets
        monkeypatch.delenv(name)
    importlib.reload(demo)
    assert "PREFECT_LOGGING_LEVEL" not in os.environ, "it drops the INFO lines the UI shows"
    config = load_logging_config(DEFAULT_LOGGING_SETTINGS_PATH)
    assert config["handlers"]["console"]["level"] == "WARNING"


def test_dry_runs_and_real_runs_are_told_apart_by_name_and_tag():
    dry_name, dry_tags = demo.run_labels(1, dry_run=True)
    real_name, real_tags = demo.run_labels(2, dry_run=False)
    assert "simulação" in dry_name and "simulação" in dry_tags
    assert "simulação" not in real_name and "simulação" not in real_tags
    assert dry_name != real_name and "demo" in dry_tags and "demo" in real_tags


def test_the_first_sync_meets_one_transient_fault_that_prefect_retries():
    with running_stack(synthetic_provider(customers=3, contracts=3, seed=1)) as stack:
        rule = demo.one_passing_outage(stack)
        assert stack.magnus.faults.rules == [rule]
    assert rule.kind is FaultKind.HTTP_503 and rule.times == 1 and "save" in (rule.match or "")
    # A 503 is a ServerError, which `only_transient` lets Prefect retry.
    failed = Failed(data=ServerError("HTTP 503", system="magnusbilling", status_code=503))
    assert only_transient(None, None, failed)


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        (Completed(message="31 clientes"), "concluída - 31 clientes"),
        (Failed(message="o IXC não respondeu"), "falhou - o IXC não respondeu"),
        (Cancelled(), "cancelada"),
        (Completed(name="Pulada", message="outra execução"), "Pulada - outra execução"),
    ],
)
def test_the_run_state_is_printed_in_the_operators_language(state, shown):
    assert demo.state_text(state) == shown


def test_shortened_cells_are_cut_between_words():
    reason = "IXC diz bloqueado (status_internet CM) e o Magnus está ativo há dias"
    cut = demo.shortened(reason, 40)
    assert len(cut) <= 40 and cut.endswith(" …")
    kept = cut.removesuffix(" …")
    assert reason.startswith(kept) and reason[len(kept)] == " ", "cut mid-word"
    assert demo.shortened("curto", 40) == "curto"

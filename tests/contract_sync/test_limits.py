"""A run of a deployment keeps its deployment's limits as a ceiling: it may tighten, not loosen."""

from __future__ import annotations

import pytest

from contract_sync.guard import GuardVerdict
from contract_sync.limits import KeptLimits, RunLimits, kept_within

DEPLOYMENT = "contract-sync/hourly"


def test_a_deployment_without_limits_of_its_own_keeps_the_flows_defaults():
    assert RunLimits.of_deployment({"unattended": False}) == RunLimits()
    assert RunLimits() == RunLimits(
        max_harmful_share=0.10, max_harmful_count=50, max_ixc_age_seconds=120
    )


def test_a_deployments_own_limits_are_read_and_a_value_the_flow_refuses_counts_as_the_default():
    own = RunLimits.of_deployment({"max_harmful_share": 0.3, "max_harmful_count": 7})
    assert own == RunLimits(max_harmful_share=0.3, max_harmful_count=7)
    edited_badly = {"max_harmful_share": 5, "max_harmful_count": "lots", "max_ixc_age_seconds": 0}
    assert RunLimits.of_deployment(edited_badly) == RunLimits()


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ({"max_harmful_share": 1.0}, {"max_harmful_share": 0.10}),
        ({"max_harmful_count": 1000}, {"max_harmful_count": 50}),
        ({"max_ixc_age_seconds": 3600}, {"max_ixc_age_seconds": 120}),
        ({"max_harmful_share": 0.01, "max_harmful_count": 0}, None),  # tighter: kept as asked
        ({}, None),
    ],
)
def test_a_run_keeps_what_it_asked_but_nothing_looser_than_its_deployment(asked, kept):
    result = kept_within(RunLimits(**asked), RunLimits(), DEPLOYMENT)
    assert result.limits == RunLimits(**(asked if kept is None else kept))
    assert (result.note("pt-BR") is None) is (kept is None)


def test_the_note_says_what_was_asked_what_holds_and_how_to_change_it():
    asked = RunLimits(max_harmful_share=1.0, max_harmful_count=1000, max_ixc_age_seconds=60)
    ceiling = RunLimits(max_harmful_share=0.5, max_harmful_count=1)
    result = kept_within(asked, ceiling, DEPLOYMENT)
    assert result.limits == RunLimits(
        max_harmful_share=0.5, max_harmful_count=1, max_ixc_age_seconds=60
    )
    assert result.note("pt-BR") == (
        "Esta execução pediu max_harmful_share=1, max_harmful_count=1000, mais folgado que a "
        "implantação contract-sync/hourly permite (max_harmful_share=0.5, max_harmful_count=1): "
        "valem os limites da implantação, e acima deles a execução pede aprovação. Para mudar os "
        "limites de vez, altere os parâmetros da implantação."
    )
    assert result.note("en").startswith(
        "This run asked for max_harmful_share=1, max_harmful_count=1000, looser than the "
        "deployment contract-sync/hourly allows (max_harmful_share=0.5, max_harmful_count=1)"
    )


def test_the_guard_names_the_deployment_only_when_its_limits_replaced_looser_ones():
    loosened = kept_within(RunLimits(max_harmful_count=1000), RunLimits(), DEPLOYMENT)
    assert loosened.guard.kept_from == DEPLOYMENT
    assert (loosened.guard.max_share, loosened.guard.max_count) == (0.10, 50)
    fresher_only = kept_within(RunLimits(max_ixc_age_seconds=600), RunLimits(), DEPLOYMENT)
    assert fresher_only.guard.kept_from is None, "the guard's own limits were not loosened"
    assert KeptLimits(RunLimits()).guard.kept_from is None

    verdict = GuardVerdict(harmful=80, managed=100, limit=10, kept_from=DEPLOYMENT)
    assert verdict.describe("pt-BR") == (
        "80 bloqueio(s)/desativação(ões) planejados para 100 clientes gerenciados (limite sem "
        "aprovação: 10, o da implantação contract-sync/hourly; esta execução pediu limites mais "
        "folgados, que só valem com aprovação)"
    )
    plain = GuardVerdict(harmful=80, managed=100, limit=10)
    assert "implantação" not in plain.describe("pt-BR")

"""Flow parameters an operator can type in the Prefect UI (issue 16, item 4): values that would
hang a run (0 customers at a time waits forever holding the deployment's slot) or do nothing
are refused before the run starts, with the parameter named."""

from __future__ import annotations

from typing import Any

import pytest
from prefect.exceptions import ParameterTypeError
from prefect.utilities.callables import parameter_schema

from flows.subscription_events import subscription_events


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({"max_concurrent_customers": 0}, "max_concurrent_customers"),
        ({"max_concurrent_customers": -3}, "max_concurrent_customers"),
        ({"max_concurrent_customers": 10_000}, "max_concurrent_customers"),
        ({"max_events": 0}, "max_events"),
        ({"max_events": -1}, "max_events"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_invalid_parameters_are_refused_before_the_run(
    parameters: dict[str, Any], named: str
) -> None:
    with pytest.raises(ParameterTypeError, match=named):
        subscription_events.validate_parameters(parameters)


def test_the_ui_form_carries_the_bounds() -> None:
    properties = parameter_schema(subscription_events.fn).model_dump()["properties"]
    assert (properties["max_events"]["minimum"], properties["max_events"]["maximum"]) == (
        1,
        100_000,
    )
    assert properties["max_concurrent_customers"]["minimum"] == 1


def test_the_defaults_and_valid_values_pass() -> None:
    assert subscription_events.validate_parameters({"max_concurrent_customers": 1}) | {} == {
        "max_events": 5000,
        "max_concurrent_customers": 1,
        "erp_block": "default",
        "mundipagg_block": "default",
        "card_key_block": "default",
        "discord_block": "default",
        "timezone": "America/Sao_Paulo",
    }


@pytest.mark.prefect
async def test_a_run_with_zero_customers_at_once_fails_at_once_instead_of_hanging(
    prefect_harness: None,
) -> None:
    state = await subscription_events(
        max_concurrent_customers=0, erp_block="never-loaded", return_state=True
    )
    assert state.is_failed()
    assert "max_concurrent_customers" in str(state.message)

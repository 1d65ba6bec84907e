"""Reading one customer now, on both sides, and deciding it with the sync's own code.

The decision is `build_plan` over that one customer and the holds applied by `held_plan`,
exactly as a run does, so the explanation cannot disagree with what the sync would do (the
one thing it cannot see alone is a contract id shared with another customer, which only adds
a note to the reason). Nothing is written.
"""

from __future__ import annotations

from typing import Any, cast

from prefect.utilities.urls import url_for

from blocks.ixc.client import ContractListing
from contract_sync.explain import Explanation
from contract_sync.failures import failure_problem, failure_text
from contract_sync.plan import build_plan, contract_id
from contract_sync.texts import say
from tasks.contract_sync.recording import held_plan
from tasks.contract_sync.systems import Systems

HISTORY_SHOWN = 20


async def explain_customer(systems: Systems, username: str) -> Explanation:
    username = username.strip()
    language, records = systems.language, systems.records
    assert records is not None, "the explanation needs the records database"
    now = systems.clock.now()
    user, magnus_problem = None, None
    try:
        listing = await systems.magnus.read_users_named([username])
        user = next((u for u in listing.users if u.username == username), None)
        if user is None:
            magnus_problem = say(language, "explain.not_found", username=username)
    except Exception as error:
        magnus_problem = say(language, "explain.magnus_failed", error=failure_text(error, language))
    contracts, ixc_problem = ContractListing(), None
    wanted = contract_id(user.contract_ref) if user is not None else None
    if wanted is not None:
        try:
            contracts = await systems.ixc.contracts([wanted])
        except Exception as error:
            contracts.failed_ids[wanted] = failure_problem(error)
        if wanted in contracts.failed_ids:
            why = contracts.failed_ids[wanted].describe(language)
            ixc_problem = say(language, "explain.ixc_failed", error=why)
    decision: dict[str, Any] | None = None
    if user is not None:
        plan = build_plan(
            [user],
            contracts.contracts,
            contracts.failed_ids,
            systems.ixc_config.status_mapping,
            systems.magnus_config.block_status,
            language,
        )
        decision = cast("dict[str, Any]", held_plan(systems, plan)[0].iloc[0].to_dict())
    history, total = records.history_of(
        systems.magnus_config.base_url,
        magnus_id=user.id if user is not None else None,
        username=username,
        limit=HISTORY_SHOWN,
    )
    links = {e.run_id: url for e in history if (url := url_for("flow-run", obj_id=e.run_id))}
    return Explanation(
        username=username,
        language=language,
        zone=systems.clock.zone,
        asked_at=now,
        user=user,
        magnus_problem=magnus_problem,
        contract=contracts.contracts.get(wanted) if wanted is not None else None,
        ixc_problem=ixc_problem,
        decision=decision,
        holds=records.holds_of(username),
        history=history,
        history_total=total,
        run_links=links,
    )

"""Waiting for an operator: the run paused with the approval form until an answer or the deadline.

The paused state and the run's log say why and until when. No answer by the deadline is a
rejection, decided by the run itself so that it still publishes its report.

The pause happens in the flow process (not `suspend_flow_run`): the process keeps the run lock
(`run_lock`) while it waits, so no other run of the same Magnus server can start meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.context import FlowRunContext
from prefect.exceptions import NotPausedError
from prefect.flow_runs import aresume_flow_run
from prefect.input import RunInput, keyset_from_paused_state
from prefect.input.run_input import Keyset
from prefect.logging import get_run_logger
from prefect.states import Paused, State
from prefect.utilities.engine import propose_state

from clock import Clock
from contract_sync.approval import Answer, Decision, format_time
from contract_sync.guard import GuardVerdict
from contract_sync.plan import PlannedChange
from contract_sync.texts import say
from tasks.contract_sync.approval_form import approval_form, request_text

PAUSE_KEY = "approval"
# Prefect itself fails a pause that outlives its timeout; the run answers for itself first.
PAUSE_MARGIN_SECONDS = 120


async def ask_for_approval(
    verdict: GuardVerdict,
    changes: Sequence[PlannedChange],
    *,
    timeout_seconds: int,
    poll_seconds: float,
    clock: Clock,
    language: str,
) -> Answer:
    """Pause this flow run with the form until an operator answers or the deadline passes."""
    deadline = clock.now() + timedelta(seconds=timeout_seconds)
    form = approval_form(language)
    form._description = request_text(verdict, changes, deadline, language)
    message = say(
        language,
        "approval.paused",
        deadline=format_time(deadline, language),
        why=verdict.describe(language),
    )
    get_run_logger().warning(message)
    timed_out = {
        "decision": say(language, "approval.reject"),
        "note": say(language, "approval.timed_out_note"),
    }
    answer = await _paused_until_answered(
        form,
        message,
        timeout_seconds,
        poll_seconds,
        timed_out,
        Undecided(say(language, "approval.choose"), say(language, "approval.undecided")),
    )
    if answer is None:
        return Answer(Decision.TIMED_OUT, timed_out["note"], clock.now())
    approved = answer.decision == say(language, "approval.approve")
    decision = Decision.APPROVED if approved else Decision.REJECTED
    return Answer(decision, str(answer.note).strip(), clock.now())


@dataclass(frozen=True)
class Undecided:
    """The form's preset choice, which answers nothing, and what the run says when sent it."""

    choice: str
    message: str


async def _paused_until_answered(
    form: type[RunInput],
    message: str,
    timeout_seconds: int,
    poll_seconds: float,
    timed_out: dict[str, str],
    undecided: Undecided,
) -> Any | None:
    """The operator's answer, or None when none came before the deadline.

    Like Prefect's `pause_flow_run`, but the Paused state carries `message` (why, until when),
    a form sent without a choice pauses the run again (a pause key is used once) saying so,
    and at the deadline the run resumes itself with a rejection - unless an operator answered
    in the same instant, whose answer then stands.
    """
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("only a flow run can wait for approval")
    run_id = context.flow_run.id
    give_up_at = time.monotonic() + timeout_seconds
    async with get_client() as client:
        for pause in itertools.count():
            shown = message if pause == 0 else f"{undecided.message} {message}"
            if pause:
                get_run_logger().warning(shown)
            keyset = await _pause(client, run_id, form, shown, pause, give_up_at)
            answer = await _answer_until(client, run_id, form, keyset, poll_seconds, give_up_at)
            if answer is None:
                with contextlib.suppress(NotPausedError):
                    await aresume_flow_run(run_id, run_input=timed_out)
                    return None
                answer = await _saved_answer(form, keyset)  # answered as time ran out
                return None if answer.decision == undecided.choice else answer
            if answer.decision != undecided.choice:
                return answer
    raise AssertionError("unreachable")


async def _pause(
    client: PrefectClient,
    run_id: UUID,
    form: type[RunInput],
    message: str,
    pause: int,
    give_up_at: float,
) -> Keyset:
    """Pause the run (its `pause`-th time) with the form; the keyset its answer is saved under."""
    proposed: State[Any] = Paused(
        timeout_seconds=math.ceil(max(0.0, give_up_at - time.monotonic()) + PAUSE_MARGIN_SECONDS),
        pause_key=PAUSE_KEY if pause == 0 else f"{PAUSE_KEY}-{pause + 1}",
        message=message,
    )
    keyset = keyset_from_paused_state(proposed)
    proposed.state_details.run_input_keyset = {key: value for key, value in keyset.items()}
    state = await propose_state(client, proposed, flow_run_id=run_id)
    if not state.is_paused():
        raise RuntimeError(f"the run could not pause for approval (state {state.type})")
    await form.asave(keyset)
    return keyset


async def _answer_until(
    client: PrefectClient,
    run_id: UUID,
    form: type[RunInput],
    keyset: Keyset,
    poll_seconds: float,
    give_up_at: float,
) -> Any | None:
    """The form's answer once the run is resumed; None if it is still paused at `give_up_at`."""
    while (remaining := give_up_at - time.monotonic()) > 0:
        await asyncio.sleep(min(poll_seconds, remaining))
        run = await client.read_flow_run(run_id)
        if run.state is not None and run.state.is_running():
            return await _saved_answer(form, keyset)
    return None


async def _saved_answer(form: type[RunInput], keyset: Keyset) -> Any:
    """The form as the operator sent it (its fields are the form's own: `decision`, `note`)."""
    return await form.aload(keyset)

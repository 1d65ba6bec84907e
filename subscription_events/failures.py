"""Why an event cannot be processed, in words an operator reading `rec_log_sync` understands.

These reasons are written to the ERP (`rec_log_sync.descricao`), where the gym's staff read them:
they are in Portuguese whatever the run's language (the Discord block's), and the run report, the
notice and the log quote them as written (`subscription_events.texts` holds the run's own texts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from blocks.errors import ApiError, is_transient
from blocks.mundipagg.client import InconsistentAnswer, UnconfirmedWrite

if TYPE_CHECKING:
    from blocks.gym_erp.rows import Change

# What an `E` says when the gateway may have done what the event asked: reprocessing it blindly
# could, after the gateway forgot the idempotency key (24 h), do it a second time.
UNKNOWN_OUTCOME = "resultado desconhecido: não reenviar sem conferir"


class EventFailed(Exception):
    """The ERP data or the event itself is wrong; the event ends `E` with this message.

    `keep` are ERP changes committed with the `E` all the same: ids of what the gateway already
    created, so that reprocessing the event never creates it a second time. `gateway_error` is
    the gateway's error that stopped the event midway: when transient, the event is tried again
    instead (its earlier calls repeat with the same idempotency keys).
    """

    def __init__(
        self, message: str, keep: Sequence[Change] = (), gateway_error: ApiError | None = None
    ) -> None:
        super().__init__(message)
        self.keep = keep
        self.gateway_error = gateway_error


def gateway_problem(error: ApiError, *, unconfirmed: bool = False) -> str:
    """The reason an event ends `E` because of the gateway; `unconfirmed` when an earlier try of
    the event sent a write the gateway may have done without confirming it."""
    if unconfirmed or isinstance(error, UnconfirmedWrite):
        return f"{UNKNOWN_OUTCOME} (gateway sem resposta confirmada, tentativas esgotadas: {error})"
    if isinstance(error, InconsistentAnswer):
        return f"resposta incoerente do gateway ({error})"
    if is_transient(error):
        return f"gateway indisponível, tentativas esgotadas ({error})"
    return f"gateway recusou ({error})"

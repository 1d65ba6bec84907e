"""Why an event cannot be processed, in words an operator reading `rec_log_sync` understands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from blocks.gym_erp.rows import Change


class EventFailed(Exception):
    """The ERP data or the event itself is wrong; the event ends `E` with this message.

    `keep` are ERP changes committed with the `E` all the same: ids of what the gateway already
    created, so that reprocessing the event never creates it a second time.
    """

    def __init__(self, message: str, keep: Sequence[Change] = ()) -> None:
        super().__init__(message)
        self.keep = keep

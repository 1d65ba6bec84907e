"""What a run did, for the Prefect artifacts (the operator's audit trail), in the run's language.

The reasons it lists are the ones written to the ERP's `rec_log_sync`, quoted as written: in
Portuguese, for the gym's staff, whatever the run's language (see `subscription_events.texts`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from blocks.gym_erp.rows import EventStatus
from subscription_events.lanes import EventResult
from subscription_events.texts import customer_name, event_moment, reason, say, status_name


@dataclass(frozen=True)
class EventsRunReport:
    results: Sequence[EventResult]
    # Events held behind an older failure that the run did not read (past `HELD_SHOWN`).
    held_not_listed: int = 0

    @property
    def failed(self) -> list[EventResult]:
        return [result for result in self.results if result.status == "E"]

    @property
    def newly_held(self) -> list[EventResult]:
        return [result for result in self.results if result.newly_held]

    @property
    def waiting(self) -> int:
        """Every event held behind a failed one, listed or not."""
        return self.counts["N"] + self.held_not_listed

    @property
    def counts(self) -> Counter[str]:
        return Counter(result.status for result in self.results)

    @property
    def subscriptions(self) -> int:
        return len({result.chain for result in self.results})

    def table(self, language: str) -> list[dict[str, str]]:
        """One row per event, oldest first, its columns named in `language`."""

        def column(name: str) -> str:
            return say(language, f"column.{name}")

        return [
            {
                column("event"): result.id_guid,
                column("date"): event_moment(result.dt_evento, language),
                column("code"): result.sigla,
                column("chain"): result.chain,
                column("result"): status_name(language, result.status),
                column("customer"): customer_name(language, result),
                column("gateway_id"): result.id_api or "",
                column("value"): f"{result.value:.2f}",
                column("reason"): reason(language, result),
            }
            for result in sorted(self.results, key=lambda r: (r.dt_evento, r.id_guid))
        ]

    def markdown(self, language: str) -> str:
        """The counts, then the failed and the waiting events with their reasons."""
        counts = self.counts
        lines = [
            f"# {say(language, 'report.title')}",
            "",
            say(
                language,
                "report.headline",
                events=len(self.results),
                chains=self.subscriptions,
                processed=counts["P"],
                failed=counts["E"],
                waiting=self.waiting,
            ),
        ]
        listed: tuple[tuple[EventStatus, str], ...] = (("E", "report.failed"), ("N", "report.held"))
        for status, title in listed:
            chosen = [result for result in self.results if result.status == status]
            if chosen:
                lines += ["", f"## {say(language, title)}", ""]
                lines += [
                    f"- `{result.id_guid}` ({result.chain}) {customer_name(language, result)}: "
                    f"{reason(language, result)}"
                    for result in chosen
                ]
        if self.held_not_listed:
            lines += ["", say(language, "report.held_not_listed", count=self.held_not_listed)]
        if counts["E"] or counts["N"]:
            lines += ["", say(language, "report.reasons_as_written")]
        return "\n".join(lines) + "\n"

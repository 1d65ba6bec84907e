"""What a run did, for the Prefect artifacts (the operator's audit trail) - in Portuguese."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from subscription_events.lanes import EventResult

STATUS_NAMES = {"P": "processado", "E": "erro", "N": "pendente"}


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

    def table(self) -> list[dict[str, str]]:
        """One row per event, oldest first."""
        return [
            {
                "evento": result.id_guid,
                "data": f"{result.dt_evento:%d/%m/%Y %H:%M:%S}",
                "sigla": result.sigla,
                "grupo": result.chain,
                "resultado": STATUS_NAMES[result.status],
                "cliente": result.customer,
                "id_api": result.id_api or "",
                "valor": f"{result.value:.2f}",
                "motivo": result.description,
            }
            for result in sorted(self.results, key=lambda r: (r.dt_evento, r.id_guid))
        ]

    def markdown(self) -> str:
        counts = self.counts
        lines = [
            "# Eventos Mundipagg",
            "",
            f"{len(self.results)} evento(s) de {self.subscriptions} assinatura(s)/cliente(s): "
            f"**{counts['P']} processado(s)**, **{counts['E']} com erro**, "
            f"**{self.waiting} aguardando** um evento anterior que falhou.",
        ]
        for status, title in (("E", "Com erro"), ("N", "Aguardando")):
            chosen = [result for result in self.results if result.status == status]
            if chosen:
                lines += ["", f"## {title}", ""]
                lines += [
                    f"- `{result.id_guid}` ({result.chain}) {result.customer}: {result.description}"
                    for result in chosen
                ]
        if self.held_not_listed:
            lines += ["", f"E mais {self.held_not_listed} evento(s) aguardando, não listados."]
        return "\n".join(lines) + "\n"

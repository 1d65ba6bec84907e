"""Why a run failed."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "failure.magnus_unreadable": (
        "o MagnusBilling não pôde ser lido ({error}); nada foi gravado",
        "MagnusBilling could not be read ({error}); nothing was written",
    ),
    "ledger.not_configured": (
        "nenhum caminho de ledger definido neste contêiner: monte um volume e aponte "
        "{variable} para um arquivo nele (o ledger precisa sobreviver ao contêiner)",
        "no ledger path set in this container: mount a volume and set {variable} to a file on "
        "it (the ledger must outlive the container)",
    ),
    "failure.changes_failed": ("{count} alteração(ões) falharam", "{count} changes failed"),
    "failure.unsent": (
        "{messages} mensagem(ns) do Discord não enviadas, {changes} alteração(ões) aplicadas "
        "ainda não avisadas (a próxima execução avisa)",
        "{messages} Discord messages not sent, {changes} applied changes not announced yet "
        "(the next run announces them)",
    ),
}

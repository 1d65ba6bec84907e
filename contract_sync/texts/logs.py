"""The run's own log lines (the flow run's Logs tab in the Prefect UI)."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "log.magnus_read": (
        "{count} clientes lidos do MagnusBilling (o servidor informou {total})",
        "Read {count} MagnusBilling users (server reported {total})",
    ),
    "log.ixc_read": (
        "{read} de {wanted} contratos lidos do IXC ({how}); {failed} não puderam ser lidos",
        "Read {read} of {wanted} IXC contracts ({how}); {failed} could not be read",
    ),
    "ixc_strategy.by-id": ("por id", "by id"),
    "ixc_strategy.full-listing": ("listagem completa", "full listing"),
    "log.interrupted_found": (
        "{count} gravação(ões) de uma execução interrompida já estavam aplicadas no Magnus",
        "{count} writes of an interrupted run found applied in Magnus",
    ),
    "log.not_writing": ("{username} não gravado: {reason}", "Not writing {username}: {reason}"),
    "log.write_failed": (
        "{username} não gravado: {why}",
        "{username} not written: {why}",
    ),
    "log.lock_not_checked": (
        "Não foi possível conferir se o limite de concorrência {name} está ativado ao devolvê-lo "
        "({kind}); se um operador o desativou, confira no Prefect se ficou preso",
        "Could not check that the concurrency limit {name} is switched on when giving it back "
        "({kind}); if an operator switched it off, check in Prefect that it is not stuck",
    ),
    "log.lock_switched_on": (
        "O limite de concorrência {name} estava desativado (ou com limite diferente de 1) "
        "no Prefect; foi reativado com limite 1, porque sem ele duas execuções ou dois "
        "salvamentos no MagnusBilling poderiam acontecer ao mesmo tempo",
        "The concurrency limit {name} was switched off (or not limited to 1) in Prefect; "
        "it was switched on again with limit 1, since without it two runs or two "
        "MagnusBilling saves could happen at once",
    ),
    "log.applied": (
        "{action} {username}: status {before} -> {after}",
        "{action} {username}: active {before} -> {after}",
    ),
    "log.approved": ("Aprovada pelo operador: {note}", "Approved by the operator: {note}"),
    "log.alert_unsent": (
        'Alerta "{title}" não enviado: {error}',
        'Could not send the alert "{title}": {error}',
    ),
    "log.no_discord_block": (
        "Sem bloco Discord para o alerta de falha: {error}",
        "No Discord block for the failure alert: {error}",
    ),
    "log.message_unsent": (
        "Mensagem {position} do Discord não enviada: {why}",
        "Discord message {position} not sent: {why}",
    ),
}

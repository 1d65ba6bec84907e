"""The explain command: why a customer is as it is."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "explain.title": (
        "Por que o cliente {username} está assim?",
        "Why is customer {username} like this?",
    ),
    "explain.asked": ("Consultado em {when}.", "Asked at {when}."),
    "explain.summary": ("{username}: {action} - {reason}", "{username}: {action} - {reason}"),
    "explain.unanswered": (
        "{username}: sem resposta - {why}",
        "{username}: no answer - {why}",
    ),
    "explain.not_found": (
        "o usuário {username} não existe no MagnusBilling",
        "there is no user {username} in MagnusBilling",
    ),
    "explain.magnus_failed": (
        "o MagnusBilling não pôde ser lido: {error}",
        "MagnusBilling could not be read: {error}",
    ),
    "explain.ixc_failed": (
        "o IXC não pôde ser lido: {error}",
        "IXC could not be read: {error}",
    ),
    "explain.now": ("Agora, nos dois sistemas", "Now, on both sides"),
    "explain.magnus_user": ("Usuário no Magnus", "Magnus user"),
    "explain.magnus_status": ("Status no Magnus", "Magnus status"),
    "explain.contract_field": ("Contrato no Magnus", "Contract in Magnus"),
    "explain.ixc": ("Contrato no IXC", "Contract in IXC"),
    "explain.no_contract": (
        "nenhum contrato lido (o id de contrato no Magnus está vazio ou não é um número)",
        "no contract read (the contract id in Magnus is empty or not a valid number)",
    ),
    "explain.contract_not_found": (
        "contrato {contract} não encontrado no IXC",
        "contract {contract} not found in IXC",
    ),
    "explain.ixc_codes": (
        "{contract}: status {status}, internet {internet} ({standing})",
        "{contract}: status {status}, internet {internet} ({standing})",
    ),
    "explain.decision": ("O que a sincronização faria agora", "What the sync would do now"),
    "explain.no_decision": (
        "nada pode ser decidido sem o cliente no Magnus",
        "nothing can be decided without the customer in Magnus",
    ),
    "explain.action": ("Ação", "Action"),
    "explain.reason": ("Motivo", "Reason"),
    "explain.would": ("Sem a retenção", "Without the hold"),
    "explain.target": ("Magnus passaria a", "Magnus would become"),
    "explain.holds": ("Retenções", "Holds"),
    "explain.no_holds": ("nenhuma retenção para este usuário", "no holds for this username"),
    "explain.hold_active": ("ativa: {hold}", "active: {hold}"),
    "explain.hold_expired": (
        "expirada (não retém mais): {hold}",
        "expired (no longer holds): {hold}",
    ),
    "explain.hold_ended": (
        "encerrada em {when} por {who} ({note}): {hold}",
        "ended at {when} by {who} ({note}): {hold}",
    ),
    "explain.history": ("Histórico (mais recente primeiro)", "History (newest first)"),
    "explain.no_history": (
        "nenhuma execução alterou ou quis alterar este cliente",
        "no run changed or meant to change this customer",
    ),
    "explain.history_more": (
        "mostrando {shown} de {total} registros",
        "showing {shown} of {total} entries",
    ),
    "explain.dry": ("(simulação)", "(dry run)"),
    "explain.column.when": ("quando", "when"),
    "explain.column.run": ("execução", "run"),
    "explain.column.action": ("ação", "action"),
    "explain.column.result": ("resultado", "result"),
    "explain.column.magnus": ("magnus antes -> depois", "magnus before -> after"),
    "explain.column.ixc": ("IXC status / internet", "IXC status / internet"),
    "explain.column.reason": ("motivo", "reason"),
}

"""Holds, customer history and the records database that keeps them (also the holds command)."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "result.held": ("retida: o cliente está em retenção", "held: the customer is on hold"),
    "count.held": ("{n} retida(s)", "{n} held"),
    "hold.describe": (
        "{reason} (por {who} em {since}, {until})",
        "{reason} (by {who} at {since}, {until})",
    ),
    "hold.no_expiry": ("sem prazo", "no expiry"),
    "hold.until": ("até {until}", "until {until}"),
    "hold.through": ("até o fim de {day}", "through {day}"),
    "hold.reason": (
        "retido: {hold}; sem a retenção: {action} - {why}",
        "held: {hold}; without the hold: {action} - {why}",
    ),
    "hold.expired": (
        "a retenção de {username} expirou: {hold}; a sincronização volta a decidir",
        "the hold on {username} expired: {hold}; the sync decides again",
    ),
    "hold.expired_note": (
        "expirou; informado pela execução {run}",
        "expired; reported by run {run}",
    ),
    "holds.bad_row": (
        "retenção {id} (usuário {username}): campo {field} com valor {value} inválido",
        "hold {id} (username {username}): field {field} has the invalid value {value}",
    ),
    "holds.unreadable": (
        "a lista de retenções não pôde ser lida; nada foi alterado: {problems}. Corrija a "
        "linha no banco de registros ou encerre a retenção (python -m deployments.holds "
        "remove USUÁRIO)",
        "the holds list could not be read; nothing was changed: {problems}. Fix the row in "
        "the records database or end the hold (python -m deployments.holds remove USERNAME)",
    ),
    "write.held": (
        "retido durante a execução: {hold}",
        "put on hold during the run: {hold}",
    ),
    "report.held": (
        "Retidos (a sincronização não os altera)",
        "Held (the sync does not change them)",
    ),
    "report.expired_holds": ("Retenções expiradas", "Expired holds"),
    "report.held_suffix": ("; {n} retido(s)", "; {n} held"),
    "report.held_line": (
        "{customer} ({username}): {reason}",
        "{customer} ({username}): {reason}",
    ),
    "summary.held_line": (
        "Retido: {customer} ({username}), seria {action}",
        "Held: {customer} ({username}), would be {action}",
    ),
    "summary.held_more": ("e mais {count} retido(s)", "and {count} more held"),
    "history.failed": (
        "histórico dos clientes não gravado ({error}); as alterações feitas continuam valendo",
        "customer history not recorded ({error}); the changes made stand",
    ),
    "records.unavailable": (
        "o banco de registros (retenções e histórico) não pôde ser aberto ({where}: {error}); "
        "nada foi alterado",
        "the records database (holds and history) could not be opened ({where}: {error}); "
        "nothing was changed",
    ),
    "holds_cli.customer": (
        "{name} (usuário {username}, contrato {contract})",
        "{name} (user {username}, contract {contract})",
    ),
    "holds_cli.added": ("Retido: {who}: {hold}", "Held: {who}: {hold}"),
    "holds_cli.exists": (
        "{username} já está retido: {hold}. Para mudar, remova a retenção e crie outra.",
        "{username} is held already: {hold}. To change it, remove the hold and add another.",
    ),
    "holds_cli.not_found": (
        "o usuário {username} não existe no MagnusBilling; confira o nome (ou use --force)",
        "there is no user {username} in MagnusBilling; check the name (or use --force)",
    ),
    "holds_cli.past": ("a data {until} já passou", "{until} is in the past"),
    "holds_cli.bad_date": (
        "{until} não é uma data: use 31/12/2026, 31/12/2026 18:00 ou 2026-12-31",
        "{until} is not a date: use 31/12/2026, 31/12/2026 18:00 or 2026-12-31",
    ),
    "holds_cli.none": ("nenhuma retenção", "no holds"),
    "holds_cli.active": ("ativa", "active"),
    "holds_cli.expired": ("expirada", "expired"),
    "holds_cli.ended": ("encerrada", "ended"),
    "holds_cli.removed_note": ("removida pelo operador", "removed by the operator"),
    "holds_cli.removed": (
        "Retenção de {username} encerrada: a próxima execução volta a decidir",
        "Hold on {username} ended: the next run decides again",
    ),
    "holds_cli.no_hold": ("{username} não tem retenção aberta", "{username} has no open hold"),
    "holds_cli.column.username": ("usuário", "username"),
    "holds_cli.column.state": ("situação", "state"),
    "holds_cli.column.reason": ("motivo", "reason"),
    "holds_cli.column.by": ("por", "by"),
    "holds_cli.column.since": ("desde", "since"),
    "holds_cli.column.until": ("até", "until"),
    "holds_cli.column.ended": ("encerrada", "ended"),
    "records.unknown": (
        "nenhuma implantação de contract-sync disse ainda onde guarda as retenções e o "
        "histórico ({magnus}); simulações e execuções fora de uma implantação não contam: "
        "espere (ou dispare) uma execução real da implantação, ou informe --records-block "
        "ou --ledger-path como na implantação",
        "no contract-sync deployment has said yet where it keeps its holds and history "
        "({magnus}); dry runs and runs outside a deployment do not count: wait for (or "
        "start) a real run of the deployment, or give --records-block or --ledger-path as "
        "the deployment does",
    ),
    "records.writers_disagree": (
        "as implantações de contract-sync deste MagnusBilling ({magnus}) guardam as "
        "retenções em lugares diferentes ({writers}): uma retenção em um não é lida pelas "
        "execuções do outro, então nada é feito. Aponte todas para o mesmo banco "
        "(records_block) ou apague a implantação que não é mais usada",
        "the contract-sync deployments of this MagnusBilling ({magnus}) keep their holds in "
        "different places ({writers}): a hold in one is not read by the runs of the other, "
        "so nothing is done. Point them all at one database (records_block) or delete the "
        "deployment no longer in use",
    ),
    "records.told_elsewhere": (
        "{told} não é onde as implantações de contract-sync guardam as retenções "
        "({writers}): uma retenção ali não seria lida; nada é feito",
        "{told} is not where the contract-sync deployments keep their holds ({writers}): a "
        "hold there would not be read; nothing is done",
    ),
    "records.block": (
        "bloco contract-sync-records/{name}",
        "block contract-sync-records/{name}",
    ),
    "records.not_here": (
        "as execuções guardam as retenções e o histórico em {path}, que não existe nesta "
        "máquina: rode o comando onde o worker roda, ou use um banco PostgreSQL (bloco "
        "contract-sync-records)",
        "the runs keep their holds and history in {path}, which does not exist on this "
        "machine: run the command where the worker runs, or use a PostgreSQL database "
        "(contract-sync-records block)",
    ),
    "records.no_block": (
        "o bloco contract-sync-records/{name} não existe: crie-o, ou deixe records_block "
        "vazio para usar o SQLite ao lado do ledger",
        "there is no block contract-sync-records/{name}: create it, or leave records_block "
        "empty for the SQLite file beside the ledger",
    ),
}

"""The Discord messages: change embeds, the bulk summary, run summaries, alerts and run
states."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # change embeds
    "embed.customer": ("Cliente", "Customer"),
    "embed.username": ("Usuário", "Username"),
    "embed.contract": ("Contrato", "Contract"),
    "embed.document": ("Documento", "Document"),
    "embed.before": ("Status anterior", "Old status"),
    "embed.after": ("Novo status", "New status"),
    "embed.ixc": ("Status IXC", "IXC status"),
    "embed.ixc_codes": (
        "status {status} / internet {internet}",
        "status {status} / internet {internet}",
    ),
    "embed.shared": (
        "Contrato usado por mais de um cliente",
        "Contract used by more than one customer",
    ),
    "embed.late": (
        "Aplicada em uma execução anterior que não chegou a avisar.",
        "Applied by an earlier run that did not get to announce it.",
    ),
    "bulk.title": ("Resumo da sincronização de contratos", "Contract sync summary"),
    "bulk.description": (
        "{count} alterações aplicadas; a lista completa está no arquivo anexo.",
        "{count} changes applied; the full list is in the attached file.",
    ),
    "bulk.filename": ("alteracoes.csv", "changes.csv"),
    # alerts and summaries on Discord
    "alert.needs_approval": (
        "contract-sync: aprovação necessária no Prefect",
        "contract-sync: approval needed in Prefect",
    ),
    "alert.approval_answered": (
        "contract-sync: aprovação respondida: {decision}",
        "contract-sync: approval answered: {decision}",
    ),
    "alert.aborted": (
        "contract-sync: alteração em massa abortada",
        "contract-sync: mass change aborted",
    ),
    "alert.run_ended": (
        "contract-sync: execução {run} {state}",
        "contract-sync: run {run} {state}",
    ),
    "alert.run": ("execução {run}", "run {run}"),
    "alert.open_run": ("Abrir no Prefect: {url}", "Open in Prefect: {url}"),
    "alert.deadline": ("Prazo: {deadline}", "Deadline: {deadline}"),
    "alert.no_message": ("sem mensagem", "no message"),
    "state.Failed": ("falhou", "failed"),
    "state.Crashed": ("caiu", "crashed"),
    "state.Completed": ("concluída", "completed"),
    "state.Cancelled": ("cancelada", "cancelled"),
    "state.skipped_busy": ("Pulada", "Skipped"),
    "state.TimedOut": ("expirou", "timed out"),
    "summary.title": ("contract-sync", "contract-sync"),
    "summary.title_restore": (
        "contract-restore (religamento)",
        "contract-restore (restore lane)",
    ),
    "summary.late": (
        "{count} alteração(ões) aplicadas por uma execução anterior, interrompida, avisadas agora",
        "{count} changes applied by an earlier, interrupted run announced now",
    ),
    "summary.failed_line": ("{who}: {detail}", "{who}: {detail}"),
    "notify.unsent_line": (
        "mensagem {position} de {total} ({subject}) não enviada: {error}",
        "message {position} of {total} ({subject}) not sent: {error}",
    ),
    "notify.unexpected": (
        "avisos não enviados: erro inesperado {error}",
        "notifications not sent: unexpected {error}",
    ),
    "notify.unexpected_type": ("erro inesperado {error}", "unexpected {error}"),
    "notify.more": ("e mais {count}", "and {count} more"),
    "describe.change": (
        "{action} {customer} (usuário {username}, contrato {contract}): {before} -> {after}",
        "{action} {customer} (user {username}, contract {contract}): {before} -> {after}",
    ),
}

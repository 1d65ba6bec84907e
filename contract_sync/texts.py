"""Every text an operator reads from contract-sync, in each language it speaks (pt-BR first).

Discord messages, the run report, the approval form, alerts and state messages all take their
words from here, so a language is complete or it is not offered. Each entry is
(pt-BR, en); values are filled in with `str.format`.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from blocks.language import DEFAULT_LANGUAGE, LANGUAGES, Language, in_language
from blocks.problems import PROBLEMS

__all__ = [
    "CATALOGUE",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Language",
    "format_moment",
    "label",
    "say",
    "template",
]

CATALOGUE: dict[str, tuple[str, str]] = {
    # decisions
    "action.Block": ("Bloqueio", "Block"),
    "action.Unblock": ("Desbloqueio", "Unblock"),
    "action.Disable": ("Desativação", "Disable"),
    "action.Enable": ("Ativação", "Enable"),
    "action.NoChange": ("Sem alteração", "No change"),
    "action.Skip": ("Ignorado", "Skipped"),
    "action.NotManaged": ("Não gerenciado", "Not managed"),
    "action.Held": ("Retido", "Held"),
    # what happened to a change
    "result.applied": ("aplicada", "applied"),
    "result.already_done": ("já estava assim", "already so"),
    "result.stale": ("não aplicada: o cliente mudou", "not applied: the customer changed"),
    "result.failed": ("falhou", "failed"),
    "result.planned": ("planejada (simulação)", "planned (dry run)"),
    "result.not_attempted": ("não tentada", "not attempted"),
    "result.withdrawn": ("retirada: o IXC mudou", "withdrawn: IXC changed"),
    # counts in a headline
    "count.Block": ("{n} bloqueio(s)", "{n} block(s)"),
    "count.Unblock": ("{n} desbloqueio(s)", "{n} unblock(s)"),
    "count.Disable": ("{n} desativação(ões)", "{n} disable(s)"),
    "count.Enable": ("{n} ativação(ões)", "{n} enable(s)"),
    "count.applied": ("{n} aplicada(s)", "{n} applied"),
    "count.already_done": ("{n} já estava(m) assim", "{n} already so"),
    "count.stale": (
        "{n} não aplicada(s) porque o cliente mudou",
        "{n} not applied (customer changed)",
    ),
    "count.failed": ("{n} falha(s)", "{n} failed"),
    "count.planned": ("{n} planejada(s)", "{n} planned"),
    "count.not_attempted": ("{n} não tentada(s)", "{n} not attempted"),
    "count.withdrawn": ("{n} retirada(s) porque o IXC mudou", "{n} withdrawn (IXC changed)"),
    # statuses
    "standing.active": ("ativo", "active"),
    "standing.blocked": ("bloqueado", "blocked"),
    "standing.inactive": ("inativo", "inactive"),
    "standing.unknown": ("desconhecido", "unknown"),
    "magnus.0": ("Inativo", "Inactive"),
    "magnus.1": ("Ativo", "Active"),
    "magnus.2": ("Pendente", "Pending"),
    "magnus.3": ("Bloqueado (entrada)", "Blocked (incoming)"),
    "magnus.4": ("Bloqueado (entrada e saída)", "Blocked (in and out)"),
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
    # the run report
    "report.title": ("Sincronização de contratos", "Contract sync"),
    "run.dry_label": ("simulação", "dry-run"),
    "report.title_dry": ("Sincronização de contratos (simulação)", "Contract sync (dry run)"),
    "report.dry_prefix": ("SIMULAÇÃO - ", "DRY RUN - "),
    "report.headline": (
        "{dry}{customers} clientes: {changes}, {skipped} ignorado(s); {results}",
        "{dry}{customers} customers: {changes}, {skipped} skipped; {results}",
    ),
    "report.nothing_written": ("nada gravado", "nothing written"),
    "report.stopped": ("Parou antes de gravar: {why}", "Stopped before writing: {why}"),
    "report.decisions": ("Decisões", "Decisions"),
    "report.results": ("Resultados", "Results"),
    "report.count": ("quantidade", "count"),
    "report.table_limited": (
        "A tabela de decisões lista as {shown} linhas que não são 'Sem alteração' nem "
        "'Não gerenciado' ({customers} clientes ao todo).",
        "The decisions table lists the {shown} rows that are not 'No change' or 'Not managed' "
        "({customers} customers in all).",
    ),
    "report.problems": ("Problemas", "Problems"),
    "report.failed": ("Alterações que falharam", "Failed changes"),
    "report.failed_line": ("Magnus id {magnus_id}: {detail}", "Magnus id {magnus_id}: {detail}"),
    "report.unsent": ("Avisos não enviados", "Notifications not sent"),
    "report.unannounced": (
        "Alterações aplicadas ainda não avisadas (a próxima execução avisa)",
        "Applied changes not announced yet (the next run announces them)",
    ),
    "report.announced_late": (
        "Aplicadas por uma execução anterior, avisadas por esta",
        "Applied by an earlier run, announced by this one",
    ),
    "report.withdrawn": (
        "Retiradas: o IXC mudou depois do plano (na aprovação ou pouco antes de gravar)",
        "Withdrawn: IXC changed after planning (during the approval or right before writing)",
    ),
    "report.writing": ("Gravação no MagnusBilling", "Writing to MagnusBilling"),
    "report.write_times_line": (
        "{saves} gravação(ões) em {wall}; tempo por gravação: p50 {p50}, p95 {p95}, máx. {max}",
        "{saves} save(s) in {wall}; time per save: p50 {p50}, p95 {p95}, max {max}",
    ),
    "report.write_time_none": (
        "nenhuma gravação feita; fase de escrita {wall}",
        "no save made; write phase {wall}",
    ),
    "progress.line": (
        "{done} de {total} alterações gravadas ou conferidas; faltam {left}",
        "{done} of {total} changes written or checked; {left} left",
    ),
    "progress.unknown": ("(calculando)", "(estimating)"),
    "progress.seconds": ("cerca de {n} s", "about {n} s"),
    "progress.minutes": ("cerca de {n} min", "about {n} min"),
    "report.shared": (
        "Contratos usados por mais de um cliente",
        "Contract ids used by more than one customer",
    ),
    "report.approval": ("Aprovação", "Approval"),
    "report.approval_line": (
        "{decision} por {who} em {when}: {note}",
        "{decision} by {who} at {when}: {note}",
    ),
    "report.would_need_approval": (
        "Uma execução real precisaria de aprovação: {why}",
        "A real run would need approval: {why}",
    ),
    "report.would_not_need_approval": (
        "Uma execução real não precisaria de aprovação ({why}).",
        "A real run would not need approval ({why}).",
    ),
    "column.customer": ("cliente", "customer"),
    "column.username": ("usuário", "username"),
    "column.contract": ("contrato", "contract"),
    "column.magnus_before": ("magnus antes", "magnus before"),
    "column.magnus_after": ("magnus depois", "magnus after"),
    "column.ixc_status": ("status IXC", "IXC status"),
    "column.ixc_status_internet": ("internet IXC", "IXC internet"),
    "column.action": ("ação", "action"),
    "column.reason": ("motivo", "reason"),
    "column.result": ("resultado", "result"),
    # the mass-change guard and the approval form
    "guard.describe": (
        "{harmful} bloqueio(s)/desativação(ões) planejados para {managed} clientes gerenciados "
        "(limite sem aprovação: {limit})",
        "{harmful} blocks/disables planned for {managed} managed customers "
        "(limit without approval: {limit})",
    ),
    "approval.paused": (
        "Aguardando aprovação até {deadline}: {why}",
        "Waiting for approval until {deadline}: {why}",
    ),
    "approval.form_title": ("Conjunto grande de alterações", "Large change set"),
    "approval.form_intro": (
        "{why}.\n\n{total} alterações ao todo; as que bloqueiam ou desativam vêm primeiro. "
        "Responda até **{deadline}**; sem resposta, nada é gravado.",
        "{why}.\n\n{total} changes in all; the ones that block or disable come first. "
        "Answer by **{deadline}**; without an answer nothing is written.",
    ),
    "approval.form_counts": ("Por ação", "Per action"),
    "approval.form_sample": ("As primeiras {shown}", "The first {shown}"),
    "approval.form_sample_line": (
        "**{action}** {customer} (usuário {username}, contrato {contract}): {reason}",
        "**{action}** {customer} (user {username}, contract {contract}): {reason}",
    ),
    "approval.form_after": (
        "Depois de aprovar, o IXC é lido de novo e cada alteração é decidida outra vez; só as "
        "que continuam valendo são aplicadas.",
        "After approval IXC is read again and each change is decided again; only those that "
        "still stand are applied.",
    ),
    "approval.decision_field": ("Decisão", "Decision"),
    "approval.decision_help": (
        "Escolha aprovar ou rejeitar; sem uma escolha a execução continua aguardando.",
        "Choose approve or reject; without a choice the run keeps waiting.",
    ),
    "approval.choose": ("escolha", "choose"),
    "approval.undecided": (
        "O formulário foi enviado sem decisão: escolha aprovar ou rejeitar.",
        "The form was sent without a decision: choose approve or reject.",
    ),
    "approval.note_field": (
        "Observação (fica no relatório da execução)",
        "Note (kept in the run report)",
    ),
    "approval.approve": ("aprovar", "approve"),
    "approval.reject": ("rejeitar", "reject"),
    "approval.approved": ("Aprovado", "Approved"),
    "approval.rejected": ("Rejeitado", "Rejected"),
    "approval.timed_out": ("Sem resposta", "No answer"),
    "approval.timed_out_note": ("ninguém respondeu até o prazo", "nobody answered in time"),
    "approval.no_note": ("sem observação", "no note"),
    "approval.operator": ("operador", "operator"),
    "approval.stopped_unattended": (
        "{why}; execução sem supervisão, abortada",
        "{why}; unattended run, aborted",
    ),
    "approval.stopped_timeout": (
        "{why}; sem aprovação em {seconds} s",
        "{why}; no approval within {seconds} s",
    ),
    "approval.stopped_rejected": (
        "{why}; rejeitado pelo operador ({note})",
        "{why}; rejected by the operator ({note})",
    ),
    "approval.busy": (
        "outra execução de contract-sync ({holder}) está em andamento ou aguardando aprovação; "
        "esta não faz nada",
        "another contract-sync run ({holder}) is running or waiting for approval; this one does "
        "nothing",
    ),
    "restore.busy": (
        "outra execução de contract-restore ({holder}) está religando clientes; esta não faz nada",
        "another contract-restore run ({holder}) is restoring customers; this one does nothing",
    ),
    # the decision table's reasons
    "plan.not_managed": ("sem id de contrato no Magnus", "no contract id in Magnus"),
    "plan.invalid_id": (
        "o id de contrato {ref} não é um id de contrato válido",
        "contract id {ref} is not a valid contract id",
    ),
    "plan.too_large": (
        "o id de contrato {ref} é maior que {limit}, o maior id que esta sincronização compara "
        "exatamente",
        "contract id {ref} is larger than {limit}, the largest id this sync matches exactly",
    ),
    "plan.read_failed": ("leitura do IXC falhou: {why}", "IXC read failed: {why}"),
    "plan.not_found": ("contrato {ref} não encontrado no IXC", "contract {ref} not found in IXC"),
    "plan.missing_field": (
        "o contrato {ref} veio do IXC sem o campo {fields}; nada é feito sem esse dado",
        "contract {ref} came from IXC without the field {fields}; nothing is done without it",
    ),
    "plan.magnus_unknown": (
        "status do Magnus {active} não está entre 0 e 4",
        "Magnus status {active} is not 0-4",
    ),
    "plan.missing": ("ausente", "missing"),
    "plan.ixc_unknown": (
        "códigos do IXC {codes} não correspondem a um status",
        "IXC codes {codes} are not mapped to a status",
    ),
    "plan.anomaly": (
        "anomalia: inativo no Magnus mas bloqueado no IXC {codes}",
        "anomaly: inactive in Magnus but blocked in IXC {codes}",
    ),
    "plan.decided": ("IXC {standing} {codes}", "IXC {standing} {codes}"),
    "plan.left_to_hourly": (
        "{action} fica para a execução de hora em hora (o religamento só religa): {why}",
        "{action} is left to the hourly run (the restore lane only restores): {why}",
    ),
    "plan.shared": (
        "; id de contrato usado também por outro cliente",
        "; contract id shared with another customer",
    ),
    # right before a write, Magnus read again
    "recheck.contract_changed": (
        "o id de contrato mudou no Magnus desde o plano; a próxima execução decide",
        "the contract id changed in Magnus since planning; the next run decides",
    ),
    "recheck.already": ("já está {active} no Magnus", "already {active} in Magnus"),
    "recheck.status_changed": (
        "o status no Magnus mudou de {before} para {now} desde o plano; a próxima execução decide",
        "the Magnus status changed from {before} to {now} since planning; the next run decides",
    ),
    "write.confirmed": (
        "gravação confirmada relendo o Magnus depois de uma resposta incerta",
        "save confirmed by re-reading Magnus after an unclear answer",
    ),
    "write.failed_database": (
        "o banco local da sincronização (ledger de avisos ou registros) falhou ao gravar "
        "({kind}: {why}); o cliente pode ou não ter sido alterado - a próxima execução confere "
        "no MagnusBilling. Verifique o disco e o caminho do ledger, ou a conexão do bloco "
        "ContractSyncRecords",
        "the sync's own database (notification ledger or records) failed while writing "
        "({kind}: {why}); the customer may or may not have been changed - the next run checks "
        "Magnus. Check the disk and the ledger path, or the ContractSyncRecords block's "
        "connection",
    ),
    "write.failed_save_lock": (
        "a vez de salvar no MagnusBilling não veio em {seconds} s (trava {name}, uma gravação "
        "por vez); nada foi gravado. Se nenhuma execução está gravando, a trava ficou presa: "
        "libere-a com `prefect gcl update {name} --active-slots 0`",
        "the turn to save in MagnusBilling did not come within {seconds} s (lock {name}, one "
        "save at a time); nothing was saved. If no run is writing, the lock is stuck: free it "
        "with `prefect gcl update {name} --active-slots 0`",
    ),
    "write.failed_unexpected": (
        "erro inesperado ao gravar ({kind}); o cliente pode ou não ter sido alterado - a "
        "próxima execução confere no MagnusBilling. Detalhes no log da tarefa apply-change",
        "unexpected error while writing ({kind}); the customer may or may not have been "
        "changed - the next run checks Magnus. Details in the apply-change task's log",
    ),
    # after an approval, IXC read again
    "reconfirm.read_failed": (
        "o IXC não pôde ser lido de novo depois da aprovação ({why}); a próxima execução decide",
        "IXC could not be read again after the approval ({why}); the next run decides",
    ),
    "reconfirm.gone": (
        "o contrato {contract} não está mais no IXC; a próxima execução decide",
        "contract {contract} is no longer in IXC; the next run decides",
    ),
    "reconfirm.missing_field": (
        "o contrato {contract} veio do IXC sem o campo {fields} depois da aprovação; a próxima "
        "execução decide",
        "contract {contract} came from IXC without the field {fields} after the approval; the "
        "next run decides",
    ),
    "reconfirm.changed": (
        "o IXC mudou depois da aprovação: agora status {status}, internet {internet} "
        "({standing}), o que pede {action}; a próxima execução decide",
        "IXC changed after the approval: now status {status}, internet {internet} "
        "({standing}), which calls for {action}; the next run decides",
    ),
    # right before a Block or Disable is saved, IXC read again
    "reconfirm.before_write.read_failed": (
        "o IXC não pôde ser lido de novo antes de gravar ({why}); nada foi gravado, a próxima "
        "execução decide",
        "IXC could not be read again before writing ({why}); nothing was saved, the next run "
        "decides",
    ),
    "reconfirm.before_write.changed": (
        "o IXC mudou enquanto a execução gravava: agora status {status}, internet {internet} "
        "({standing}), o que pede {action}; não gravado, a próxima execução decide",
        "IXC changed while the run was writing: now status {status}, internet {internet} "
        "({standing}), which calls for {action}; not saved, the next run decides",
    ),
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
    "automation.run_name": (
        "billing-sync: execução falhou, caiu ou está atrasada",
        "billing-sync: run failed, crashed or is late",
    ),
    "automation.contract_sync_name": (
        "billing-sync: contract-sync caiu ou está atrasada",
        "billing-sync: contract-sync run crashed or is late",
    ),
    "automation.contract_restore_name": (
        "billing-sync: contract-restore caiu ou está atrasada",
        "billing-sync: contract-restore run crashed or is late",
    ),
    "automation.subscription_events_name": (
        "billing-sync: subscription-events falhou, caiu ou está atrasada",
        "billing-sync: subscription-events run failed, crashed or is late",
    ),
    "automation.quiet_name": (
        "billing-sync: contract-sync sem execução concluída há 2 horas",
        "billing-sync: no contract-sync run completed for 2 hours",
    ),
    "automation.run": ("execução", "run"),
    "automation.failed": ("falhou", "failed"),
    "automation.crashed": ("caiu", "crashed"),
    "automation.late": (
        "está atrasada: nenhum worker a iniciou",
        "is late: no worker started it",
    ),
    "automation.open": ("Abrir no Prefect:", "Open in Prefect:"),
    "automation.contract_restore_description": (
        "Avisa no Discord quando uma execução de contract-restore (religamento) cai ou atrasa "
        "(também quando nenhum worker está no ar). Uma execução que falha avisa ela mesma.",
        "Tells Discord when a contract-restore run crashes or is late (also when no worker is "
        "up). A run that fails tells it itself.",
    ),
    "automation.contract_sync_description": (
        "Avisa no Discord quando uma execução de contract-sync cai ou atrasa (também quando "
        "nenhum worker está no ar). Uma execução que falha avisa ela mesma.",
        "Tells Discord when a contract-sync run crashes or is late (also when no worker is "
        "up). A run that fails tells it itself.",
    ),
    "automation.subscription_events_description": (
        "Avisa no Discord quando uma execução de subscription-events falha, cai ou atrasa "
        "(também quando nenhum worker está no ar).",
        "Tells Discord when a subscription-events run fails, crashes or is late (also when "
        "no worker is up).",
    ),
    "automation.quiet_title": (
        "contract-sync: nenhuma execução concluída nas últimas 2 horas",
        "contract-sync: no run completed in the last 2 hours",
    ),
    "automation.quiet_description": (
        "A sincronização de contratos não termina uma execução há 2 horas: confira o servidor "
        "Prefect, o worker e a agenda da implantação.",
        "The contract sync has not finished a run for 2 hours: check the Prefect server, the "
        "worker and the deployment's schedule.",
    ),
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
# What a client found wrong (blocks/problems.py: the clients' own words, said to operators).
CATALOGUE.update(PROBLEMS)


def template(language: str, key: str) -> str:
    """The text `key` in `language` (pt-BR for any language not offered), not filled in."""
    return in_language(language, CATALOGUE[key])


def say(language: str, key: str, **values: object) -> str:
    """The text `key` in `language`, filled in."""
    return template(language, key).format(**values)


def label(language: str, kind: str, value: object) -> str:
    """An enum value's label (`label("pt-BR", "action", Action.BLOCK)` -> "Bloqueio")."""
    return say(language, f"{kind}.{value}")


def format_moment(moment: datetime, zone: tzinfo, language: str) -> str:
    """A time as operators read it, in the provider's zone: `05/12/2026 10:00 (-03)`."""
    local = moment.astimezone(zone)
    pattern = "%Y-%m-%d %H:%M" if language == "en" else "%d/%m/%Y %H:%M"
    return f"{local:{pattern}} ({local.tzname()})"


# The run's own log lines (the flow run's Logs tab in the Prefect UI).
CATALOGUE.update(
    {
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
)


# Holds, customer history and the explain command.
CATALOGUE.update(
    {
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
        "approve_cli.none": (
            "nenhuma execução de contract-sync aguardando aprovação",
            "no contract-sync run is waiting for approval",
        ),
        "approve_cli.not_waiting": (
            "nenhuma execução de contract-sync {run!r} está aguardando aprovação",
            "no contract-sync run {run!r} is waiting for approval",
        ),
        "approve_cli.no_choice": (
            "diga --approve ou --reject: não há escolha padrão",
            "say --approve or --reject: there is no default",
        ),
        "approve_cli.refused": (
            "o Prefect não aceitou a resposta para {run} ({error}); confira a execução na "
            "interface do Prefect",
            "Prefect did not accept the answer for {run} ({error}); check the run in the "
            "Prefect UI",
        ),
        "approve_cli.answered": ("{run}: {decision}", "{run}: {decision}"),
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
)

"""Right before and while writing: Magnus and IXC read again, and what a save came to."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
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
}

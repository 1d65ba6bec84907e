"""The mass-change guard, the approval form and its answers (also from the approve command),
and the run locks."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # the mass-change guard and the approval form
    "guard.describe": (
        "{harmful} bloqueio(s)/desativação(ões) planejados para {managed} clientes gerenciados "
        "(limite sem aprovação: {limit})",
        "{harmful} blocks/disables planned for {managed} managed customers "
        "(limit without approval: {limit})",
    ),
    "guard.describe_kept": (
        "{harmful} bloqueio(s)/desativação(ões) planejados para {managed} clientes gerenciados "
        "(limite sem aprovação: {limit}, o da implantação {deployment}; esta execução pediu "
        "limites mais folgados, que só valem com aprovação)",
        "{harmful} blocks/disables planned for {managed} managed customers "
        "(limit without approval: {limit}, the deployment {deployment}'s; this run asked for "
        "looser limits, which only hold with approval)",
    ),
    "guard.limits_kept": (
        "Esta execução pediu {asked}, mais folgado que a implantação {deployment} permite "
        "({allowed}): valem os limites da implantação, e acima deles a execução pede aprovação. "
        "Para mudar os limites de vez, altere os parâmetros da implantação.",
        "This run asked for {asked}, looser than the deployment {deployment} allows "
        "({allowed}): the deployment's limits hold, and past them the run asks for approval. "
        "To change the limits for good, change the deployment's parameters.",
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
        "Prefect did not accept the answer for {run} ({error}); check the run in the Prefect UI",
    ),
    "approve_cli.answered": ("{run}: {decision}", "{run}: {decision}"),
}

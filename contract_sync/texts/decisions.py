"""What the sync decides for a customer, and why: actions, results, counts, statuses and
the decision table's reasons."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
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
}

"""The run report (the flow run's artifact): headline, tables, columns and the write progress."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
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
}

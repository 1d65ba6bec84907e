"""The Prefect automations that tell Discord about crashed, late or quiet runs."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
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
}

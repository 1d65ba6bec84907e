"""Every text an operator reads from subscription-events, in each language it speaks (pt-BR first).

The run report and its artifacts, the log lines and the Discord notice take their words from
here, in the language of the run's Discord block (pt-BR without one). Each entry is (pt-BR, en);
values are filled in with `str.format`.

Not here: the reasons written to the ERP's `rec_log_sync` (the `EventFailed` and handler texts,
`EventResult.description`). The gym's staff read them in the ERP, so they stay in Portuguese
whatever the run's language; the report and the notice quote them as written.
"""

from __future__ import annotations

from datetime import datetime

from blocks.gym_erp.rows import EventStatus
from blocks.language import in_language
from subscription_events.lanes import EventResult

TEXTS: dict[str, tuple[str, str]] = {
    # how an event ended (P, E, or N: still pending, held behind a failure)
    "status.P": ("processado", "processed"),
    "status.E": ("erro", "failed"),
    "status.N": ("pendente", "pending"),
    # what the run says of an event beside the reason written to `rec_log_sync`
    "event.unknown_customer": ("(cliente desconhecido)", "(unknown customer)"),
    "event.other_run_has": (
        "{code}: aguardando outra execução, que está processando {other}",
        "{code}: waiting for another run, which is processing {other}",
    ),
    # the run report (the summary artifact)
    "report.title": ("Eventos Mundipagg", "Mundipagg events"),
    "report.headline": (
        "{events} evento(s) de {chains} assinatura(s)/cliente(s): **{processed} processado(s)**, "
        "**{failed} com erro**, **{waiting} aguardando** um evento anterior que falhou.",
        "{events} event(s) of {chains} subscription(s)/customer(s): **{processed} processed**, "
        "**{failed} failed**, **{waiting} waiting** for an earlier event that failed.",
    ),
    "report.failed": ("Com erro", "Failed"),
    "report.held": ("Aguardando", "Waiting"),
    "report.reasons_as_written": (
        "Os motivos são os gravados em rec_log_sync.",
        "The reasons are quoted as written to the ERP's rec_log_sync, in Portuguese for the "
        "gym's staff.",
    ),
    "report.held_not_listed": (
        "E mais {count} evento(s) aguardando, não listados.",
        "And {count} more event(s) waiting, not listed.",
    ),
    "report.summary": ("Resumo da execução", "Summary of the run"),
    "report.each_event": (
        "Cada evento e seu resultado",
        "Each event and its result (reasons as written to rec_log_sync, in Portuguese)",
    ),
    # the table artifact's columns
    "column.event": ("evento", "event"),
    "column.date": ("data", "date"),
    "column.code": ("sigla", "code"),
    "column.chain": ("grupo", "chain"),
    "column.result": ("resultado", "result"),
    "column.customer": ("cliente", "customer"),
    "column.gateway_id": ("id_api", "gateway id"),
    "column.value": ("valor", "value"),
    "column.reason": ("motivo", "reason"),
    # the run's log
    "log.stale_claims_taken_back": (
        "{count} evento(s) reservado(s) há mais de {minutes} minutos por uma execução que não "
        "terminou voltaram para N e serão processados de novo (mesmas chaves de idempotência)",
        "{count} event(s) claimed over {minutes} minutes ago by a run that did not finish went "
        "back to N and will be processed again (same idempotency keys)",
    ),
    "log.pending": (
        "{runnable} evento(s) pendente(s) (limite {limit}); {held} aguardam um evento com erro",
        "{runnable} pending event(s) (limit {limit}); {held} waiting for a failed event",
    ),
    "log.lanes": (
        "{events} evento(s) em {lanes} fila(s) de cliente; {held} aguardam um evento com erro",
        "{events} event(s) in {lanes} customer lane(s); {held} waiting for a failed event",
    ),
    "log.try_failed": (
        "{code} {guid}: tentativa {failed} de {attempts} falhou no gateway ({error}); o evento "
        "será tentado de novo",
        "{code} {guid}: try {failed} of {attempts} failed at the gateway ({error}); the event "
        "will be tried again",
    ),
    "log.counts": (
        "{processed} processado(s), {failed} com erro, {waiting} aguardando",
        "{processed} processed, {failed} failed, {waiting} waiting",
    ),
    "log.discord_unavailable": (
        "Sem avisos no Discord nesta execução, que segue em pt-BR: bloco Discord '{block}' "
        "indisponível ({error})",
        "No Discord notice in this run, which goes on in pt-BR: Discord block '{block}' "
        "unavailable ({error})",
    ),
    "log.notice_unsent": ("Aviso no Discord não enviado: {why}", "Discord notice not sent: {why}"),
    # the Discord notice
    "notice.title": (
        "subscription-events ({run}): {failed} evento(s) com erro, {held} retido(s)",
        "subscription-events ({run}): {failed} event(s) failed, {held} held back",
    ),
    "notice.failed": ("Com erro", "Failed"),
    "notice.held": ("Passaram a aguardar", "Newly held back"),
    "notice.waiting": ("Aguardando no total", "Waiting in all"),
    "notice.processed": ("Processados", "Processed"),
    "notice.first_failed": ("**Primeiros erros**", "**First failures**"),
    "notice.first_held": ("**Retidos atrás de um erro**", "**Held behind a failure**"),
    "notice.more": ("… e mais {count}", "… and {count} more"),
    "notice.how": (
        "Corrija os dados e volte o evento com erro para N; os retidos seguem depois dele.",
        "Fix the data and set the failed event back to N; the held ones follow it.",
    ),
}


def say(language: str, key: str, **values: object) -> str:
    """The text `key` in `language` (pt-BR for any language not offered), filled in."""
    return in_language(language, TEXTS[key]).format(**values)


def status_name(language: str, status: EventStatus) -> str:
    """How an event ended, in words (`status_name("en", "E")` -> "failed")."""
    return say(language, f"status.{status}")


def reason(language: str, result: EventResult) -> str:
    """Why the event ended as it did: the reason written to `rec_log_sync`, as written (in
    Portuguese), or, for an event waiting for another run (nothing written), in `language`."""
    if result.other_run_has is None:
        return result.description
    return say(language, "event.other_run_has", code=result.sigla, other=result.other_run_has)


def customer_name(language: str, result: EventResult) -> str:
    """The event's customer, or that it is not known, in `language`."""
    return result.customer or say(language, "event.unknown_customer")


def event_moment(moment: datetime, language: str) -> str:
    """An event's `dt_evento` as written by the ERP (its local time): `22/11/2026 08:00:00` in
    pt-BR, `2026-11-22 08:00:00` in English."""
    pattern = "%Y-%m-%d %H:%M:%S" if language == "en" else "%d/%m/%Y %H:%M:%S"
    return f"{moment:{pattern}}"

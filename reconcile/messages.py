"""Discord messages for contract-sync, in the team's language (pt-BR by default)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from blocks.discord.models import Attachment, DiscordMessage, Embed, EmbedField, pack_embeds
from reconcile.decide import Action
from reconcile.plan import PlannedChange

COLOURS = {
    Action.BLOCK: 0xE74C3C,
    Action.UNBLOCK: 0x2ECC71,
    Action.DISABLE: 0x95A5A6,
    Action.ENABLE: 0x3498DB,
}
ALERT_COLOUR = 0xF1C40F

TEXT: dict[str, dict[str, str]] = {
    "pt-BR": {
        Action.BLOCK: "Bloqueio",
        Action.UNBLOCK: "Desbloqueio",
        Action.DISABLE: "Desativação",
        Action.ENABLE: "Ativação",
        "customer": "Cliente",
        "username": "Usuário",
        "contract": "Contrato",
        "document": "Documento",
        "before": "Status anterior",
        "after": "Novo status",
        "ixc": "Status IXC",
        "shared": "Contrato usado por mais de um cliente",
        "summary_title": "Resumo da sincronização de contratos",
        "bulk": "{count} alterações aplicadas; a lista completa está no arquivo anexo.",
        "status0": "Inativo",
        "status1": "Ativo",
        "status2": "Pendente",
        "status3": "Bloqueado (entrada)",
        "status4": "Bloqueado (entrada e saída)",
        "late": "Aplicada em uma execução anterior que não chegou a avisar.",
    },
    "en": {
        Action.BLOCK: "Block",
        Action.UNBLOCK: "Unblock",
        Action.DISABLE: "Disable",
        Action.ENABLE: "Enable",
        "customer": "Customer",
        "username": "Username",
        "contract": "Contract",
        "document": "Document",
        "before": "Old status",
        "after": "New status",
        "ixc": "IXC status",
        "shared": "Contract used by more than one customer",
        "summary_title": "Contract sync summary",
        "bulk": "{count} changes applied; the full list is in the attached file.",
        "status0": "Inactive",
        "status1": "Active",
        "status2": "Pending",
        "status3": "Blocked (incoming)",
        "status4": "Blocked (in and out)",
        "late": "Applied by an earlier run that did not get to announce it.",
    },
}


def status_label(active: int, language: str) -> str:
    return f"{active} - {TEXT[language].get(f'status{active}', '?')}"


def ixc_codes(change: PlannedChange) -> str:
    return f"status {change.ixc_status or '-'} / internet {change.ixc_status_internet or '-'}"


def change_embed(change: PlannedChange, language: str, late: bool = False) -> Embed:
    """One change; `late` when an earlier run applied it and could not announce it."""
    text = TEXT[language]
    notes = [text["shared"]] if change.duplicate_contract else []
    notes += [text["late"]] if late else []
    return Embed(
        title=f"{text[change.action]}: {change.customer or change.username}",
        description="\n".join(notes),
        color=COLOURS[change.action],
        fields=[
            EmbedField(name=text["customer"], value=change.customer),
            EmbedField(name=text["username"], value=change.username),
            EmbedField(name=text["contract"], value=str(change.contract_id)),
            EmbedField(name=text["document"], value=change.document),
            EmbedField(name=text["before"], value=status_label(change.magnus_active, language)),
            EmbedField(name=text["after"], value=status_label(change.target_active, language)),
            EmbedField(name=text["ixc"], value=ixc_codes(change)),
        ],
    )


def announcements(
    applied: Sequence[PlannedChange],
    language: str,
    max_embeds: int,
    late: Collection[int] = (),
) -> list[DiscordMessage]:
    """One embed per change; past `max_embeds`, one message with a CSV of every change.

    With embeds, messages hold consecutive changes in order (the ledger relies on it to know
    which changes a message announces). `late`: Magnus ids applied by an earlier run.
    """
    if len(applied) <= max_embeds:
        return pack_embeds(
            [change_embed(change, language, change.magnus_id in late) for change in applied]
        )
    counts = count_actions(applied)
    summary = Embed(
        title=TEXT[language]["summary_title"],
        description=TEXT[language]["bulk"].format(count=len(applied)),
        color=ALERT_COLOUR,
        fields=[EmbedField(name=TEXT[language][a], value=str(n)) for a, n in counts.items()],
    )
    return [
        DiscordMessage(
            embeds=[summary],
            attachments=[Attachment(filename="alteracoes.csv", content=changes_csv(applied))],
        )
    ]


def summary_message(title: str, lines: Sequence[str], counts: Mapping[str, int]) -> DiscordMessage:
    return DiscordMessage(
        embeds=[
            Embed(
                title=title,
                description="\n".join(lines),
                color=ALERT_COLOUR,
                fields=[EmbedField(name=name, value=str(n)) for name, n in counts.items()],
            ).clipped()
        ]
    )


def changes_csv(changes: Sequence[PlannedChange]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["action", "customer", "username", "contract", "document", "before", "after"])
    for c in changes:
        writer.writerow(
            [
                c.action,
                c.customer,
                c.username,
                c.contract_id,
                c.document,
                c.magnus_active,
                c.target_active,
            ]
        )
    return buffer.getvalue().encode()


def count_actions(changes: Sequence[PlannedChange]) -> dict[Action, int]:
    return dict(Counter(change.action for change in changes))

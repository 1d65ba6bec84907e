"""Discord messages for contract-sync, in the team's language (pt-BR by default)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence

from blocks.discord.models import Attachment, DiscordMessage, Embed, EmbedField, pack_embeds
from contract_sync.decide import Action
from contract_sync.plan import PlannedChange
from contract_sync.texts import label, say

COLOURS = {
    Action.BLOCK: 0xE74C3C,
    Action.UNBLOCK: 0x2ECC71,
    Action.DISABLE: 0x95A5A6,
    Action.ENABLE: 0x3498DB,
}
ALERT_COLOUR = 0xF1C40F


def status_label(active: int, language: str) -> str:
    return f"{active} - {label(language, 'magnus', active)}"


def ixc_codes(change: PlannedChange, language: str) -> str:
    return say(
        language,
        "embed.ixc_codes",
        status=change.ixc_status or "-",
        internet=change.ixc_status_internet or "-",
    )


def change_embed(change: PlannedChange, language: str, late: bool = False) -> Embed:
    """One change; `late` when an earlier run applied it and could not announce it."""
    notes = [say(language, "embed.shared")] if change.duplicate_contract else []
    notes += [say(language, "embed.late")] if late else []

    def field(name: str, value: str) -> EmbedField:
        return EmbedField(name=say(language, f"embed.{name}"), value=value)

    return Embed(
        title=f"{label(language, 'action', change.action)}: {change.customer or change.username}",
        description="\n".join(notes),
        color=COLOURS[change.action],
        fields=[
            field("customer", change.customer),
            field("username", change.username),
            field("contract", str(change.contract_id)),
            field("document", change.document),
            field("before", status_label(change.magnus_active, language)),
            field("after", status_label(change.target_active, language)),
            field("ixc", ixc_codes(change, language)),
        ],
    )


def announcements(
    applied: Sequence[PlannedChange],
    language: str,
    max_embeds: int,
    late: Sequence[bool] = (),
) -> list[DiscordMessage]:
    """One embed per change; past `max_embeds`, one message with a CSV of every change.

    With embeds, messages hold consecutive changes in order (the ledger relies on it to know
    which changes a message announces). `late`, one flag per change: an earlier run applied
    it (a customer can have a late change and one of this run, each flagged on its own).
    """
    if len(applied) <= max_embeds:
        flags = list(late) or [False] * len(applied)
        return pack_embeds(
            [
                change_embed(change, language, was_late)
                for change, was_late in zip(applied, flags, strict=True)
            ]
        )
    counts = count_actions(applied)
    summary = Embed(
        title=say(language, "bulk.title"),
        description=say(language, "bulk.description", count=len(applied)),
        color=ALERT_COLOUR,
        fields=[
            EmbedField(name=label(language, "action", a), value=str(n)) for a, n in counts.items()
        ],
    )
    csv_file = Attachment(
        filename=say(language, "bulk.filename"), content=changes_csv(applied, language)
    )
    return [DiscordMessage(embeds=[summary], attachments=[csv_file])]


def summary_message(
    title: str, lines: Sequence[str], counts: Mapping[Action, int], language: str
) -> DiscordMessage:
    """One alert or summary embed; `counts` per action, shown by their labels."""
    return DiscordMessage(
        embeds=[
            Embed(
                title=title,
                description="\n".join(lines),
                color=ALERT_COLOUR,
                fields=[
                    EmbedField(name=label(language, "action", action), value=str(n))
                    for action, n in counts.items()
                ],
            ).clipped()
        ]
    )


def changes_csv(changes: Sequence[PlannedChange], language: str) -> bytes:
    """For a pt-BR spreadsheet: UTF-8 with a BOM, `;`-separated, and no cell a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    columns = ["column.action", "embed.customer", "embed.username", "embed.contract"]
    columns += ["embed.document", "embed.before", "embed.after"]
    writer.writerow([say(language, column) for column in columns])
    for c in changes:
        cells = [
            label(language, "action", c.action),
            c.customer,
            c.username,
            c.contract_id,
            c.document,
            status_label(c.magnus_active, language),
            status_label(c.target_active, language),
        ]
        writer.writerow([_inert(str(cell)) for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs: a customer named "=HYPERLINK(...)"."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def count_actions(changes: Sequence[PlannedChange]) -> dict[Action, int]:
    return dict(Counter(change.action for change in changes))

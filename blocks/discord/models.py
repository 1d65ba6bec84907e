"""Discord message shapes and their documented limits."""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_EMBEDS = 10
MAX_EMBED_TOTAL_CHARS = 6000
MAX_FIELDS = 25
MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EmbedField(BaseModel):
    name: str
    value: str
    inline: bool = True


class Embed(BaseModel):
    title: str
    description: str = ""
    color: int = 0
    fields: list[EmbedField] = Field(default_factory=list)

    def size(self) -> int:
        """Characters Discord counts towards the 6,000 per message."""
        return (
            len(self.title)
            + len(self.description)
            + sum(len(f.name) + len(f.value) for f in self.fields)
        )

    def clipped(self) -> Embed:
        return Embed(
            title=clip(self.title, MAX_TITLE),
            description=clip(self.description, MAX_DESCRIPTION),
            color=self.color,
            fields=[
                EmbedField(
                    name=clip(f.name, MAX_FIELD_NAME),
                    value=clip(f.value or "-", MAX_FIELD_VALUE),
                    inline=f.inline,
                )
                for f in self.fields[:MAX_FIELDS]
            ],
        )


class Attachment(BaseModel):
    filename: str
    content: bytes


class DiscordMessage(BaseModel):
    content: str = ""
    embeds: list[Embed] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)


def pack_embeds(embeds: list[Embed], content: str = "") -> list[DiscordMessage]:
    """Group embeds into as few messages as the limits allow (10 embeds, 6,000 chars)."""
    messages: list[DiscordMessage] = []
    current: list[Embed] = []
    size = 0
    for embed in (e.clipped() for e in embeds):
        if current and (len(current) == MAX_EMBEDS or size + embed.size() > MAX_EMBED_TOTAL_CHARS):
            messages.append(DiscordMessage(embeds=current))
            current, size = [], 0
        current.append(embed)
        size += embed.size()
    if current:
        messages.append(DiscordMessage(embeds=current))
    if messages and content:
        messages[0].content = clip(content, MAX_CONTENT)
    return messages

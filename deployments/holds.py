"""Holds: customers contract-sync never changes automatically. Add, list and remove them.

    python -m deployments.holds add 12345 --reason "dívida negociada" [--until 31/12/2026]
    python -m deployments.holds list [--all]
    python -m deployments.holds remove 12345 [--note "acordo cumprido"]
    make hold CUSTOMER=12345 REASON="dívida negociada" [UNTIL=31/12/2026]
    make holds | make unhold CUSTOMER=12345

`add` checks the username in MagnusBilling first (`--force` to hold one it does not find);
`--until` is a day (the hold lasts through it) or a day and time, in the provider's zone;
`--by` defaults to the login name. A removed or expired hold is kept, ended, and shows with
`list --all` and in the explain command. The holds live in the records database the runs use
(`--records-block`, else SQLite beside the ledger; see contract_sync/records/store.py for why a
table): where the contract-sync deployments of that Magnus server keep theirs, or a refusal
that says why when that is not one known place (tasks/contract_sync/records.py). Changes take
effect at the next run, and at the next write of a running one.
"""

from __future__ import annotations

import argparse
import asyncio
import builtins
import getpass
import sys

from blocks.discord.block import Discord
from blocks.magnusbilling.block import MagnusBilling
from clock import Clock
from contract_sync.explain import aligned_table
from contract_sync.holds import Hold, expiry_from_text
from contract_sync.records.store import HoldExists, Records
from contract_sync.texts import DEFAULT_LANGUAGE, format_moment, say
from deployments.explain import NOT_SET_UP, where_options
from deployments.server_auth import exit_clearly_when_refused
from tasks.contract_sync.records import open_records, operators_location


async def operators_language(discord_block: str) -> str:
    try:
        discord: Discord = await Discord.aload(discord_block)
        return discord.language
    except ValueError:  # no Discord block (yet): the default
        return DEFAULT_LANGUAGE


class Command:
    def __init__(
        self, options: argparse.Namespace, magnus: MagnusBilling, records: Records, language: str
    ) -> None:
        self.options = options
        self.magnus = magnus
        self.records = records
        self.language = language
        self.clock = records.clock

    def say(self, key: str, **values: object) -> str:
        return say(self.language, key, **values)

    def describe(self, hold: Hold) -> str:
        return hold.describe(self.language, self.clock.zone)

    async def add(self) -> int:
        options = self.options
        username = options.username.strip()
        try:
            expires = expiry_from_text(options.until, self.clock.zone) if options.until else None
        except ValueError:
            print(self.say("holds_cli.bad_date", until=options.until), file=sys.stderr)
            return 2
        if expires is not None and expires <= self.clock.now():
            print(self.say("holds_cli.past", until=options.until), file=sys.stderr)
            return 2
        customer = await self._customer(username)
        if customer is None and not options.force:
            print(self.say("holds_cli.not_found", username=username), file=sys.stderr)
            return 1
        try:
            hold = self.records.add_hold(username, options.reason, options.by, expires)
        except HoldExists as exists:
            print(
                self.say("holds_cli.exists", username=username, hold=self.describe(exists.hold)),
                file=sys.stderr,
            )
            return 1
        print(self.say("holds_cli.added", who=customer or username, hold=self.describe(hold)))
        return 0

    async def _customer(self, username: str) -> str | None:
        """The customer as Magnus has them ("name, contract 777"), None if not found."""
        async with self.magnus.client() as client:
            listing = await client.read_users_named([username])
        user = next((u for u in listing.users if u.username == username), None)
        if user is None:
            return None
        return self.say(
            "holds_cli.customer",
            username=username,
            name=user.name or "-",
            contract=user.contract_ref or "-",
        )

    async def list(self) -> int:
        holds = self.records.holds(include_ended=self.options.all)
        if not holds:
            print(self.say("holds_cli.none"))
            return 0
        columns = ["username", "state", "reason", "by", "since", "until", "ended"]
        header = [self.say(f"holds_cli.column.{name}") for name in columns]
        print("\n".join(aligned_table(header, [self._row(hold) for hold in holds])))
        return 0

    def _row(self, hold: Hold) -> builtins.list[str]:  # `list` alone: the command above
        now, zone, language = self.clock.now(), self.clock.zone, self.language
        if hold.holds_at(now):
            state = self.say("holds_cli.active")
        elif hold.ended_at is None:
            state = self.say("holds_cli.expired")
        else:
            state = self.say("holds_cli.ended")
        ended = ""
        if hold.ended_at is not None:
            when = format_moment(hold.ended_at, zone, language)
            ended = f"{when} {hold.ended_by or ''}: {hold.ended_note}".strip()
        return [
            hold.username,
            state,
            hold.reason,
            hold.created_by,
            format_moment(hold.created_at, zone, language),
            hold.until(language, zone),
            ended,
        ]

    async def remove(self) -> int:
        username = self.options.username.strip()
        note = self.options.note or self.say("holds_cli.removed_note")
        if not self.records.end_hold(username, self.options.by, note):
            print(self.say("holds_cli.no_hold", username=username), file=sys.stderr)
            return 1
        print(self.say("holds_cli.removed", username=username))
        return 0


async def run(options: argparse.Namespace) -> int:
    language = await operators_language(options.discord_block)
    magnus: MagnusBilling = await MagnusBilling.aload(options.magnus_block)
    location = await operators_location(
        options.records_block, options.ledger_path, magnus.base_url, language
    )
    records = await open_records(location, Clock.in_zone(options.timezone), language)
    try:
        return await getattr(Command(options, magnus, records, language), options.command)()
    finally:
        records.close()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="hold a customer")
    add.add_argument("username")
    add.add_argument("--reason", required=True, help="why (shown in every run's report)")
    add.add_argument("--until", help="31/12/2026, 31/12/2026 18:00 or 2026-12-31 (optional)")
    add.add_argument("--force", action="store_true", help="even if Magnus has no such user")
    listing = commands.add_parser("list", help="the holds")
    listing.add_argument("--all", action="store_true", help="ended ones too")
    remove = commands.add_parser("remove", help="end a customer's hold")
    remove.add_argument("username")
    remove.add_argument("--note", help="why it ends")
    for command in (add, remove):
        command.add_argument("--by", default=_login_name(), help="who (default: you)")
    for command in (add, listing, remove):
        where_options(command)
    return top


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container's uid without a passwd entry)
        return "operador"


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.command == "add" and not options.reason.strip():
        parser().error("--reason must say why")
    try:
        return asyncio.run(run(options))
    except NOT_SET_UP as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(exit_clearly_when_refused(main))

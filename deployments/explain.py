"""Why is this customer like this? One command, the terminal version of the explain flow.

    python -m deployments.explain 12345 [--markdown] [--magnus-block default] ...
    make explain CUSTOMER=12345

Reads the customer in MagnusBilling and their contract in IXC now, decides them with the
sync's own code (holds included) and prints both sides, the decision and why, the holds and
the history (newest first, with links to the runs), in the operators' language. Writes
nothing. Needs the Prefect server the blocks are on (`eval "$(make -s env)"`). Exit status 1
when the customer could not be read.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from clock import DEFAULT_TIMEZONE
from contract_sync.holds import HoldsUnreadable
from contract_sync.ledger import LedgerNotConfigured
from deployments.server_auth import exit_clearly_when_refused
from tasks.contract_sync.explaining import explain_customer
from tasks.contract_sync.records import RecordsUnavailable
from tasks.contract_sync.systems import Where, connected

# What stops a command before it can answer, each with a message that says what to do (a
# missing block is a ValueError from Prefect naming it).
NOT_SET_UP = (HoldsUnreadable, RecordsUnavailable, LedgerNotConfigured, ValueError)


def where_options(parser: argparse.ArgumentParser) -> None:
    """The options naming the blocks and records a contract-sync run uses."""
    parser.add_argument("--magnus-block", default="default")
    parser.add_argument("--ixc-block", default="default")
    parser.add_argument("--discord-block", default="default", help="for the language")
    parser.add_argument("--ledger-path", help="as the runs' ledger_path (records beside it)")
    parser.add_argument("--records-block", help="as the runs' records_block")
    parser.add_argument("--timezone", default=DEFAULT_TIMEZONE)


def where_of(options: argparse.Namespace) -> Where:
    return Where(
        options.magnus_block,
        options.ixc_block,
        options.discord_block,
        options.timezone,
        options.ledger_path,
        options.records_block,
    )


async def explained(options: argparse.Namespace) -> tuple[str, bool]:
    async with connected(where_of(options), dry_run=True, for_operators=True) as systems:
        explanation = await explain_customer(systems, options.username)
    text = explanation.markdown() if options.markdown else explanation.terminal()
    return text, explanation.answered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username", help="the customer's MagnusBilling username")
    parser.add_argument("--markdown", action="store_true", help="print the markdown artifact")
    where_options(parser)
    options = parser.parse_args(argv)
    try:
        text, answered = asyncio.run(explained(options))
    except NOT_SET_UP as error:
        print(error, file=sys.stderr)
        return 2
    print(text)
    return 0 if answered else 1


if __name__ == "__main__":
    sys.exit(exit_clearly_when_refused(main))

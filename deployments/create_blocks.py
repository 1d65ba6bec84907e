"""Create (or update) the `default` blocks from environment variables, for a first set-up.

    MAGNUS_BASE_URL  MAGNUS_API_KEY  MAGNUS_API_SECRET  [MAGNUS_BLOCK_STATUS=4]
    IXC_BASE_URL     IXC_TOKEN (id:hash)
    DISCORD_WEBHOOK_URL  [DISCORD_ERRORS_WEBHOOK_URL]  [DISCORD_LANGUAGE=pt-BR]
    [RECORDS_DATABASE_URL] (contract-sync's holds and history, e.g. PostgreSQL in production)
    [BLOCK_NAME=default]  [VERIFY_TLS=true]

Values go straight into the blocks (secrets as SecretStr); nothing is printed but block names.
"""

from __future__ import annotations

import os
import sys

from blocks.discord.block import Discord
from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling
from contract_sync.records.block import ContractSyncRecords
from deployments.server_auth import exit_clearly_when_refused

REQUIRED = [
    "MAGNUS_BASE_URL",
    "MAGNUS_API_KEY",
    "MAGNUS_API_SECRET",
    "IXC_BASE_URL",
    "IXC_TOKEN",
    "DISCORD_WEBHOOK_URL",
]


def main() -> int:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        print(f"Set these environment variables first: {', '.join(missing)}", file=sys.stderr)
        return 2
    env = os.environ
    name = env.get("BLOCK_NAME", "default")
    verify = env.get("VERIFY_TLS", "true").lower() != "false"
    MagnusBilling(
        base_url=env["MAGNUS_BASE_URL"],
        api_key=env["MAGNUS_API_KEY"],
        api_secret=env["MAGNUS_API_SECRET"],
        verify_tls=verify,
        block_status=int(env.get("MAGNUS_BLOCK_STATUS", "4")),
    ).save(name, overwrite=True)
    Ixc(base_url=env["IXC_BASE_URL"], token=env["IXC_TOKEN"], verify_tls=verify).save(
        name, overwrite=True
    )
    Discord(
        webhook_url=env["DISCORD_WEBHOOK_URL"],
        errors_webhook_url=env.get("DISCORD_ERRORS_WEBHOOK_URL") or None,
        language=env.get("DISCORD_LANGUAGE", "pt-BR"),
    ).save(name, overwrite=True)
    print(f"Saved blocks magnusbilling/{name}, ixc/{name}, discord/{name}")
    if env.get("RECORDS_DATABASE_URL"):
        ContractSyncRecords(url=env["RECORDS_DATABASE_URL"]).save(name, overwrite=True)
        print(f"Saved block contract-sync-records/{name} (set the deployments' records_block)")
    return 0


if __name__ == "__main__":
    raise SystemExit(exit_clearly_when_refused(main))

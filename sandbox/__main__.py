"""`python -m sandbox` (`make sandbox`): the demo provider's systems on fixed loopback ports.

For manual runs of the deployed flows: MagnusBilling, IXC and Discord (a changes webhook and an
errors webhook) on fixed ports, so blocks saved once keep working across restarts. It prints the
base URLs and sandbox credentials (never customer passwords), then every Discord message as it
arrives; `GET <discord>/sandbox/messages` lists them as JSON. A MagnusBilling save costs what it
costs on a real server with as many SIP accounts (`--save-*`, `--sip-accounts`; see
sandbox/asterisk.py); `GET <magnus>/sandbox/magnus/saves` shows the saves' durations and how many
overlapped. `--save-blocks NAME` saves blocks pointing here in the Prefect API this shell is
configured for (PREFECT_API_URL).
"""

from __future__ import annotations

import argparse
import threading

from blocks.discord.block import Discord
from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling
from deployments.server_auth import exit_clearly_when_refused
from sandbox.asterisk import SAVE_BASE_SECONDS, SAVE_PER_ACCOUNT_SECONDS
from sandbox.discord import INSPECTION_PATH, DiscordMessage, DiscordSandbox
from sandbox.ixc import IxcSandbox
from sandbox.magnusbilling import INSPECTION_PATH as MAGNUS_INSPECTION_PATH
from sandbox.magnusbilling import ApiKey, MagnusBillingSandbox
from sandbox.server import serve_all
from sandbox.world import demo_provider

DEMO_KEY = ApiKey("demo-key", "demo-secret", actions="ru")
CHANGES_WEBHOOK = ("810000000000000001", "sandbox-changes-token")
ERRORS_WEBHOOK = ("910000000000000001", "sandbox-errors-token")
PORTS = {"magnus": 8781, "ixc": 8782, "discord": 8783}


def announce(message: DiscordMessage) -> None:
    channel = "errors" if message.webhook_id == ERRORS_WEBHOOK[0] else "changes"
    titles = [str(embed.get("title", "")) for embed in message.payload.get("embeds") or []]
    files = [name for name, _ in message.attachments]
    text = "; ".join(filter(None, [message.payload.get("content") or "", *titles, *files]))
    print(f"[discord #{channel}] {text}", flush=True)


def save_blocks(name: str, urls: dict[str, str], ixc: IxcSandbox, discord: DiscordSandbox) -> None:
    MagnusBilling(base_url=urls["magnus"], api_key=DEMO_KEY.key, api_secret=DEMO_KEY.secret).save(
        name, overwrite=True
    )
    Ixc(base_url=urls["ixc"], token=ixc.token).save(name, overwrite=True)
    Discord(
        webhook_url=discord.url(urls["discord"], CHANGES_WEBHOOK[0]),
        errors_webhook_url=discord.url(urls["discord"], ERRORS_WEBHOOK[0]),
    ).save(name, overwrite=True)
    print(f"Saved blocks magnusbilling/{name}, ixc/{name}, discord/{name} pointing here.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    for system, port in PORTS.items():
        parser.add_argument(f"--{system}-port", type=int, default=port)
    parser.add_argument("--save-blocks", metavar="NAME", help="save blocks pointing here")
    parser.add_argument(
        "--save-base-seconds", type=float, default=SAVE_BASE_SECONDS, help="a Magnus save's base"
    )
    parser.add_argument(
        "--save-per-account-seconds",
        type=float,
        default=SAVE_PER_ACCOUNT_SECONDS,
        help="a Magnus save's cost per SIP account",
    )
    parser.add_argument(
        "--save-cost-scale", type=float, default=1.0, help="multiplies a Magnus save's cost"
    )
    parser.add_argument(
        "--sip-accounts", type=int, help="SIP accounts a save regenerates (default: customers)"
    )
    options = parser.parse_args()
    provider = demo_provider()
    magnus = MagnusBillingSandbox(
        provider.magnus_users,
        [DEMO_KEY],
        latency=options.latency,
        save_base_seconds=options.save_base_seconds,
        save_per_account_seconds=options.save_per_account_seconds,
        save_cost_scale=options.save_cost_scale,
        sip_accounts=options.sip_accounts,
    )
    ixc = IxcSandbox(provider.ixc_contracts, provider.ixc_clientes, latency=options.latency)
    discord = DiscordSandbox(
        [CHANGES_WEBHOOK, ERRORS_WEBHOOK], latency=options.latency, on_message=announce
    )
    ports = {system: getattr(options, f"{system}_port") for system in PORTS}
    with serve_all(ports, magnus=magnus.app, ixc=ixc.app, discord=discord.app) as urls:
        print(f"MagnusBilling {urls['magnus']}  key={DEMO_KEY.key} secret={DEMO_KEY.secret}")
        print(
            f"              {magnus.save_cost_seconds():.3f} s a save; saves and overlaps: "
            f"{urls['magnus']}{MAGNUS_INSPECTION_PATH}"
        )
        print(f"IXC           {urls['ixc']}  token={ixc.token}")
        print(f"Discord       changes {discord.url(urls['discord'], CHANGES_WEBHOOK[0])}")
        print(f"              errors  {discord.url(urls['discord'], ERRORS_WEBHOOK[0])}")
        print(f"              received messages: {urls['discord']}{INSPECTION_PATH}", flush=True)
        if options.save_blocks:
            save_blocks(options.save_blocks, urls, ixc, discord)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print(f"Discord received {len(discord.messages)} message(s).")


if __name__ == "__main__":
    exit_clearly_when_refused(main)

"""`python -m sandbox`: serve the demo provider's MagnusBilling, IXC and Discord on loopback.

For demos and manual runs of the flows: prints the base URLs and the sandbox credentials (API
key/secret, IXC token, webhook URL; never customer passwords) and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import threading

from sandbox.discord import DiscordSandbox
from sandbox.ixc import IxcSandbox
from sandbox.magnusbilling import ApiKey, MagnusBillingSandbox
from sandbox.server import serve_all
from sandbox.world import demo_provider

DEMO_KEY = ApiKey("demo-key", "demo-secret", actions="ru")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    latency = parser.parse_args().latency
    provider = demo_provider()
    magnus = MagnusBillingSandbox(provider.magnus_users, [DEMO_KEY], latency=latency)
    ixc = IxcSandbox(provider.ixc_contracts, provider.ixc_clientes, latency=latency)
    discord = DiscordSandbox(latency=latency)
    with serve_all(magnus=magnus.app, ixc=ixc.app, discord=discord.app) as urls:
        print(f"MagnusBilling {urls['magnus']}  key={DEMO_KEY.key} secret={DEMO_KEY.secret}")
        print(f"IXC           {urls['ixc']}  token={ixc.token}")
        print(f"Discord       {discord.url(urls['discord'])}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print(f"Discord received {len(discord.messages)} message(s).")


if __name__ == "__main__":
    main()

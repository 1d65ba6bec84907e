"""Local emulators of the external systems (MagnusBilling, IXC, Discord) for tests, demos and
benchmarks. They copy the real systems' quirks (see fixtures/magnusbilling and API-NOTES.md), so
code that works against them has met the real failure modes: see each module's docstring.
"""

from sandbox.discord import DiscordMessage, DiscordSandbox
from sandbox.faults import FaultKind, FaultPlan, FaultProfile, FaultRule, InjectedConnectionReset
from sandbox.ixc import IxcSandbox, make_cliente, make_contract
from sandbox.magnusbilling import ApiKey, MagnusBillingSandbox, make_user, root_user, sign
from sandbox.server import serve, serve_all

__all__ = [
    "ApiKey",
    "DiscordMessage",
    "DiscordSandbox",
    "FaultKind",
    "FaultPlan",
    "FaultProfile",
    "FaultRule",
    "InjectedConnectionReset",
    "IxcSandbox",
    "MagnusBillingSandbox",
    "make_cliente",
    "make_contract",
    "make_user",
    "root_user",
    "serve",
    "serve_all",
    "sign",
]

"""The sandbox stack in its own process, for benchmarks: the emulators must not share our GIL.

The real MagnusBilling and IXC run on other machines; in one process the emulators (which do
real work per request: signature check, filters, JSON of thousands of rows) would compete for
the flow's CPU and the benchmark would measure the emulators. `remote_stack()` starts a child
process (spawn) that builds a synthetic provider, serves MagnusBilling, IXC and Discord on
127.0.0.1 with the given latency and Magnus save cost, and answers a few control calls over a
pipe: request counters, the Magnus saves' durations and overlaps, resetting them, and checking the
drifted customers against the provider's oracle.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from blocks.discord.block import Discord
from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling

TARGET_ACTIVE = {"block": {3, 4}, "unblock": {1}, "disable": {0}, "enable": {1}}


@dataclass(frozen=True)
class ProviderSpec:
    customers: int
    contracts: int
    drift: float = 0.01
    seed: int = 0
    save_cost_scale: float = 1.0  # a Magnus save costs the calibrated time x this


def _serve(spec: ProviderSpec, latency: float, control: Connection) -> None:
    """Child process: build the provider, serve the stack, answer control calls until 'stop'."""
    from sandbox.stack import CHANGES_WEBHOOK, ERRORS_WEBHOOK, running_stack
    from sandbox.world import synthetic_provider

    provider = synthetic_provider(spec.customers, spec.contracts, spec.drift, spec.seed)
    drifted = provider.drifted
    with running_stack(
        provider, latency=latency, seed=spec.seed, save_cost_scale=spec.save_cost_scale
    ) as stack:
        discord = stack.discord
        control.send(
            {
                "urls": stack.urls,
                "changes_webhook": discord.url(stack.urls["discord"], CHANGES_WEBHOOK[0]),
                "errors_webhook": discord.url(stack.urls["discord"], ERRORS_WEBHOOK[0]),
                "drifted": len(drifted),
                "managed": sum(1 for u in provider.magnus_users if str(u["dist"] or "").strip()),
            }
        )
        sandboxes = {"magnus": stack.magnus, "ixc": stack.ixc, "discord": discord}
        while True:
            command, argument = control.recv()
            if command == "stop":
                control.send(None)
                return
            if command == "counters":
                counters = {name: s.requests for name, s in sandboxes.items()}
                control.send({**counters, "saves": stack.magnus.saves})
            elif command == "reset":
                for sandbox in sandboxes.values():
                    sandbox.reset_counters()
                control.send(None)
            elif command == "latency":
                for sandbox in sandboxes.values():
                    sandbox.latency = argument
                control.send(None)
            elif command == "saves":
                control.send(stack.magnus.asterisk.summary())
            elif command == "check":
                control.send(_check(stack.magnus.users, drifted))
            else:
                control.send(ValueError(f"unknown command {command!r}"))


def _check(users: dict[int, Any], drifted: dict[int, str]) -> dict[str, int]:
    """How many drifted customers now have the status their change should give them."""
    fixed = sum(int(users[uid]["active"]) in TARGET_ACTIVE[a] for uid, a in drifted.items())
    return {"drifted": len(drifted), "fixed": fixed}


class RemoteStack:
    """The parent's handle on the child: URLs, blocks pointing at them, and control calls."""

    def __init__(self, connection: Connection, hello: dict[str, Any]) -> None:
        self._connection = connection
        self.urls: dict[str, str] = hello["urls"]
        self.drifted: int = hello["drifted"]
        self.managed: int = hello["managed"]
        self._hello = hello

    def _call(self, command: str, argument: Any = None) -> Any:
        self._connection.send((command, argument))
        answer = self._connection.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def counters(self) -> dict[str, int]:
        """Requests each emulator received since the last reset."""
        return self._call("counters")

    def reset_counters(self) -> None:
        self._call("reset")

    def set_latency(self, seconds: float) -> None:
        self._call("latency", seconds)

    def saves(self) -> dict[str, Any]:
        """The Magnus emulator's saves since the last reset (see AsteriskPeers.summary)."""
        return self._call("saves")

    def check(self) -> dict[str, int]:
        """{"drifted": n, "fixed": m}: m drifted customers now have their expected status."""
        return self._call("check")

    def blocks(self, **magnus_options: Any) -> tuple[MagnusBilling, Ixc, Discord]:
        from sandbox.stack import sandbox_blocks

        return sandbox_blocks(
            self.urls,
            changes_webhook=self._hello["changes_webhook"],
            errors_webhook=self._hello["errors_webhook"],
            **magnus_options,
        )

    def stop(self) -> None:
        self._call("stop")


@contextmanager
def remote_stack(spec: ProviderSpec, *, latency: float = 0.0) -> Iterator[RemoteStack]:
    """Serve a synthetic provider from a child process; stop it on exit."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve, args=(spec, latency, theirs), daemon=True)
    child.start()
    try:
        if not ours.poll(300):
            raise RuntimeError("the sandbox process did not start")
        stack = RemoteStack(ours, ours.recv())
        yield stack
        stack.stop()
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
            child.join()

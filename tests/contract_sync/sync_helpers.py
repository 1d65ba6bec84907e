"""Shared helpers for the contract-sync robustness tests (faults, bad input, guard, crash, secrets).

`stack()` serves the three emulators on loopback like `sandbox.stack.running_stack`, but lets a
test put a `Tamper` in front of any of them to rewrite chosen answers (bad input the emulators
would never produce themselves). `save_fast_blocks()` saves blocks with short timeouts and fast
retries so fault tests stay quick.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterName,
)
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.flow_engine import run_flow
from prefect.states import State
from prefect_runs import PATIENCE_SECONDS

from flows.contract_sync import contract_sync
from sandbox.discord import DiscordSandbox
from sandbox.ixc import IxcSandbox
from sandbox.magnusbilling import ApiKey, MagnusBillingSandbox
from sandbox.server import serve_all
from sandbox.stack import CHANGES_WEBHOOK, ERRORS_WEBHOOK, IXC_TOKEN, SANDBOX_KEY, SandboxStack
from sandbox.world import Provider
from tasks.contract_sync.run_lock import FLOW_NAME
from tasks.contract_sync.writing import progress_key

NO_GUARD = {"max_harmful_share": 1.0, "max_harmful_count": 100_000}
# Flow tests run the calibrated Magnus save cost (sandbox/asterisk.py) 10x faster: a save of a
# small provider then takes ~7-15 ms instead of ~70-150 ms, which keeps the suite's time and the
# 1 s request timeouts of `fast_blocks` as they were. Overlaps are detected at any scale.
SAVE_COST_SCALE = 0.1
TARGET = {"block": {4}, "unblock": {1}, "disable": {0}, "enable": {1}}
CHANGE_TITLES = {"Bloqueio", "Desbloqueio", "Desativação", "Ativação"}

Transform = Callable[[int, bytes], tuple[int, bytes]]


@dataclass
class TamperRule:
    """Rewrite the answer to requests matching `match` ("METHOD /path?query\\n<body>")."""

    match: str
    transform: Transform | None
    times: int | None = None  # None: every matching request
    fired: int = 0
    hang: str | None = None  # "before": never answer; "after": let the emulator act, never answer
    run_app: bool = True  # False: the emulator never sees the request (transform gets 200, b"")


@dataclass
class Tamper:
    """ASGI wrapper: runs the emulator, then hands matching answers to a rule's transform."""

    app: Any
    rules: list[TamperRule] = field(default_factory=list)

    def add(
        self,
        match: str,
        transform: Transform | None = None,
        times: int | None = None,
        hang: str | None = None,
        run_app: bool = True,
    ) -> TamperRule:
        rule = TamperRule(match, transform, times, hang=hang, run_app=run_app)
        self.rules.append(rule)
        return rule

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.rules:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        query = scope.get("query_string", b"").decode("latin-1")
        text = f"{scope['method']} {scope['path']}?{query}\n{body.decode('utf-8', 'replace')}"
        rule = next(
            (
                r
                for r in self.rules
                if re.search(r.match, text) and (r.times is None or r.fired < r.times)
            ),
            None,
        )
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if rule is None:
            await self.app(scope, replay, send)
            return
        rule.fired += 1
        if rule.hang == "before":
            await _until_disconnect(receive)
            return
        start: dict[str, Any] = {}
        parts: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        if rule.run_app:
            await self.app(scope, replay, capture)
        else:
            start.update(status=200, headers=[(b"content-type", b"text/html; charset=UTF-8")])
        if rule.hang == "after" or rule.transform is None:
            await _until_disconnect(receive)
            return
        status, new_body = rule.transform(start["status"], b"".join(parts))
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(new_body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": new_body})


async def _until_disconnect(receive: Any) -> None:
    """Hold the request open until the client goes away (a hung server, a killed client)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def json_rewrite(edit: Callable[[Any], Any]) -> Transform:
    """A transform that parses the JSON answer, lets `edit` change (or replace) it, re-encodes."""

    def transform(status: int, body: bytes) -> tuple[int, bytes]:
        data = json.loads(body)
        changed = edit(data)
        return status, json.dumps(data if changed is None else changed).encode()

    return transform


def raw(new_body: bytes, status: int = 200) -> Transform:
    return lambda _status, _body: (status, new_body)


@dataclass
class Stack(SandboxStack):
    tamper: dict[str, Tamper] = field(default_factory=dict)


@contextmanager
def stack(
    provider: Provider,
    *,
    seed: int = 0,
    api_key: ApiKey = SANDBOX_KEY,
    ixc_token: str = IXC_TOKEN,
    webhooks: tuple[tuple[str, str], ...] = (CHANGES_WEBHOOK, ERRORS_WEBHOOK),
) -> Iterator[Stack]:
    """The emulators on loopback behind Tampers; credentials may be chosen (secrets tests)."""
    magnus = MagnusBillingSandbox(
        provider.magnus_users, [api_key], seed=seed, save_cost_scale=SAVE_COST_SCALE
    )
    ixc = IxcSandbox(provider.ixc_contracts, provider.ixc_clientes, token=ixc_token, seed=seed)
    discord = DiscordSandbox(list(webhooks))
    tamper = {"magnus": Tamper(magnus.app), "ixc": Tamper(ixc.app), "discord": Tamper(discord.app)}
    with serve_all(**tamper) as urls:
        yield Stack(
            magnus=magnus,
            ixc=ixc,
            discord=discord,
            urls=urls,
            drifted=provider.drifted,
            tamper=tamper,
        )


def refill(running: Stack, provider: Provider, seed: int = 0) -> None:
    """Put fresh emulators for `provider` behind `running`'s servers (same URLs and tokens).

    Starting three loopback servers costs ~1 s; a table of cases reuses them this way.
    """
    running.magnus = MagnusBillingSandbox(
        provider.magnus_users, [SANDBOX_KEY], seed=seed, save_cost_scale=SAVE_COST_SCALE
    )
    running.ixc = IxcSandbox(
        provider.ixc_contracts, provider.ixc_clientes, token=IXC_TOKEN, seed=seed
    )
    running.discord = DiscordSandbox([CHANGES_WEBHOOK, ERRORS_WEBHOOK])
    running.drifted = provider.drifted
    for system, tamper in running.tamper.items():
        tamper.rules.clear()
        tamper.app = getattr(running, system).app


def fast_blocks(sandbox: SandboxStack, timeout: float = 1.0, **magnus: Any) -> tuple:
    """Blocks for `sandbox`: `timeout` s per request, 50 ms first retry, 4 tries."""
    magnus_block, ixc_block, discord_block = sandbox.blocks(timeout_seconds=timeout, **magnus)
    ixc_block.timeout_seconds = timeout
    discord_block.timeout_seconds = timeout
    discord_block.retry_base_seconds = 0.05
    discord_block.attempts = 4
    return magnus_block, ixc_block, discord_block


def save_fast_blocks(sandbox: SandboxStack, name: str, timeout: float = 1.0, **magnus: Any):
    """Save `fast_blocks` under `name` (from sync code, e.g. a fixture)."""
    blocks = fast_blocks(sandbox, timeout, **magnus)
    for block in blocks:
        block.save(name, overwrite=True)
    return blocks


async def asave_blocks(name: str, *blocks: Any) -> None:
    """Save blocks from a test's event loop (Block.save would return an unawaited coroutine)."""
    for block in blocks:
        await block.asave(name, overwrite=True)


def block_names(name: str) -> dict[str, str]:
    return {"magnus_block": name, "ixc_block": name, "discord_block": name}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def progress_artifact(flow_run_id: Any, flow_name: str) -> Any:
    """The write phase's progress artifact of a run of `flow_name`, under that lane's key."""
    async with get_client() as client:
        for _ in range(100):
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=[progress_key(flow_name)])
                ),
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            )
            if found:
                return found[0]
            await asyncio.sleep(0.2)
    raise LookupError("no progress artifact")


async def start_as_deployment(
    deployment: str, parameters: dict[str, Any], **ad_hoc: Any
) -> tuple[FlowRun, UUID]:
    """A new run of the contract-sync deployment `deployment` (saved with `parameters`, as
    `prefect deploy` or `make serve` would), with `ad_hoc` parameters of its own (a custom run):
    created, not started."""
    saved = await contract_sync.ato_deployment(name=deployment, parameters=parameters)
    deployment_id = await saved.aapply()
    async with get_client() as client:
        flow_run = await client.create_flow_run_from_deployment(deployment_id, parameters=ad_hoc)
    return flow_run, deployment_id


async def execute_here(flow_run: FlowRun) -> State[Any]:
    """Run `flow_run` (of contract-sync) in this process, as a worker would; its final state."""
    return await run_flow(
        contract_sync, flow_run=flow_run, parameters=flow_run.parameters, return_type="state"
    )


async def run(name: str, ledger: Path, **parameters: Any):
    """One contract-sync run through Prefect with the blocks saved as `name`."""
    return await contract_sync(
        **block_names(name), ledger_path=str(ledger), **parameters, return_state=True
    )


def actives(sandbox: SandboxStack) -> dict[int, int]:
    return {uid: int(user["active"]) for uid, user in sandbox.magnus.users.items()}


def change_embeds(sandbox: SandboxStack) -> list[dict[str, Any]]:
    """Every change announcement embed sent to the changes webhook, in order."""
    return [
        embed
        for message in sandbox.messages_to(CHANGES_WEBHOOK)
        for embed in message.payload.get("embeds", [])
        if embed["title"].split(":")[0] in CHANGE_TITLES
    ]


def announced_usernames(sandbox: SandboxStack) -> list[str]:
    names = []
    for embed in change_embeds(sandbox):
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        names.append(fields["Usuário"])
    return names


async def expire_run_lock() -> None:
    """What the server does once a killed run's leases on the run lock and the save lock run
    out (60 s): the locks are free again. Done at once here, so a test does not wait a minute
    after each kill."""
    async with get_client() as client:
        for limit in await client.read_global_concurrency_limits(limit=100):
            if limit.name.startswith((FLOW_NAME, "magnus-save-")):
                await client.update_global_concurrency_limit(
                    limit.name, GlobalConcurrencyLimitUpdate(active_slots=0)
                )


async def wait_for_flow_run(name: str, state: str, within: float = PATIENCE_SECONDS):
    """The flow run called `name` once it reaches state type `state` (e.g. "PAUSED")."""
    deadline = asyncio.get_running_loop().time() + within
    async with get_client() as client:
        while True:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])),
                sort=FlowRunSort.ID_DESC,
                limit=1,
            )
            if runs and runs[0].state is not None and runs[0].state.type.value == state:
                return runs[0]
            if asyncio.get_running_loop().time() > deadline:
                found = runs[0].state if runs else None
                raise TimeoutError(f"flow run {name} not {state} (now {found})")
            await asyncio.sleep(0.2)

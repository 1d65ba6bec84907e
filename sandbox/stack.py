"""A whole provider on loopback: MagnusBilling, IXC and Discord emulators plus blocks for them.

Used by `make demo`, the flow tests, the benchmark and the soak run, so they all exercise the
flow exactly as production does: blocks loaded by name, real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
)
from prefect.client.schemas.sorting import ArtifactSort

from blocks.discord.block import Discord
from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling
from contract_sync.report import RunReport
from contract_sync.texts import DEFAULT_LANGUAGE
from sandbox.discord import DiscordSandbox
from sandbox.ixc import IxcSandbox
from sandbox.magnusbilling import ApiKey, MagnusBillingSandbox
from sandbox.server import serve_all
from sandbox.world import Provider
from tasks.contract_sync.reporting import DECISIONS_KEY

SANDBOX_KEY = ApiKey("sandbox-key", "sandbox-secret", actions="ru")
IXC_TOKEN = "7:sandbox-ixc-hash"
ERRORS_WEBHOOK = ("900", "sandbox-errors-token")
CHANGES_WEBHOOK = ("800", "sandbox-changes-token")


def sandbox_blocks(
    urls: dict[str, str], *, changes_webhook: str, errors_webhook: str, **magnus_options: Any
) -> tuple[MagnusBilling, Ixc, Discord]:
    """Blocks for emulators served at `urls` (fast retries: the sandbox is local)."""
    options = {"retry_base_seconds": 0.05, **magnus_options}
    return (
        MagnusBilling(
            base_url=urls["magnus"],
            api_key=SANDBOX_KEY.key,
            api_secret=SANDBOX_KEY.secret,
            **options,
        ),
        Ixc(base_url=urls["ixc"], token=IXC_TOKEN, retry_base_seconds=0.05),
        Discord(webhook_url=changes_webhook, errors_webhook_url=errors_webhook),
    )


@dataclass
class SandboxStack:
    magnus: MagnusBillingSandbox
    ixc: IxcSandbox
    discord: DiscordSandbox
    urls: dict[str, str]
    drifted: dict[int, str] = field(default_factory=dict)  # the provider's `drifted`

    def blocks(self, **magnus_options: Any) -> tuple[MagnusBilling, Ixc, Discord]:
        """Blocks pointing at this stack."""
        return sandbox_blocks(
            self.urls,
            changes_webhook=self.discord.url(self.urls["discord"], CHANGES_WEBHOOK[0]),
            errors_webhook=self.discord.url(self.urls["discord"], ERRORS_WEBHOOK[0]),
            **magnus_options,
        )

    def save_blocks(self, name: str = "default", **magnus_options: Any) -> None:
        for block in self.blocks(**magnus_options):
            block.save(name, overwrite=True)

    def messages_to(self, webhook: tuple[str, str]) -> list[Any]:
        return [m for m in self.discord.messages if m.webhook_id == webhook[0]]


@contextmanager
def running_stack(
    provider: Provider,
    *,
    latency: float = 0.0,
    seed: int = 0,
    save_cost_scale: float = 1.0,
    sip_accounts: int | None = None,
) -> Iterator[SandboxStack]:
    """Serve `provider`'s systems; Magnus saves cost the calibrated time x `save_cost_scale`
    for `sip_accounts` (None: the provider's customers), see sandbox/asterisk.py."""
    magnus = MagnusBillingSandbox(
        provider.magnus_users,
        [SANDBOX_KEY],
        seed=seed,
        latency=latency,
        save_cost_scale=save_cost_scale,
        sip_accounts=sip_accounts,
    )
    ixc = IxcSandbox(
        provider.ixc_contracts, provider.ixc_clientes, token=IXC_TOKEN, seed=seed, latency=latency
    )
    discord = DiscordSandbox([CHANGES_WEBHOOK, ERRORS_WEBHOOK], latency=latency)
    with serve_all(magnus=magnus.app, ixc=ixc.app, discord=discord.app) as urls:
        yield SandboxStack(
            magnus=magnus, ixc=ixc, discord=discord, urls=urls, drifted=provider.drifted
        )


async def decision_rows(
    flow_run_id: UUID, language: str = DEFAULT_LANGUAGE
) -> list[dict[str, Any]]:
    """The run's decisions table, read back into the code's names (see RunReport.read_row)."""
    rows = json.loads(await run_artifact(flow_run_id, DECISIONS_KEY))
    return [RunReport.read_row(row, language) for row in rows]


async def run_artifact(flow_run_id: UUID, key: str, wait_seconds: float = 30.0) -> Any:
    """The data of the artifact `key` that flow run `flow_run_id` created.

    The API only lists an artifact once its task run is recorded, which Prefect does from
    events, a little after the run: so this polls for a while.
    """
    deadline = time.monotonic() + wait_seconds
    async with get_client() as client:
        while True:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                task_run_filter=TaskRunFilter(),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )
            if found:
                return found[0].data
            if time.monotonic() > deadline:
                raise LookupError(f"flow run {flow_run_id} has no artifact {key!r}")
            await asyncio.sleep(0.2)

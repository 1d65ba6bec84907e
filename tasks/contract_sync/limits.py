"""The limits this run keeps: its own parameters, none looser than its deployment's."""

from __future__ import annotations

from prefect.logging import get_run_logger

from contract_sync.limits import KeptLimits, RunLimits, kept_within
from tasks.contract_sync.deployment import this_runs_deployment


async def limits_kept(asked: RunLimits, language: str) -> KeptLimits:
    """`asked` (the run's parameters) capped by its deployment's limits; a run without a
    deployment (a flow called by hand) keeps what it asked. The log says when a run asked for
    looser limits than its deployment allows."""
    deployment = await this_runs_deployment()
    if deployment is None:
        return KeptLimits(asked)
    ceiling = RunLimits.of_deployment(deployment.parameters)
    kept = kept_within(asked, ceiling, deployment.name)
    if (note := kept.note(language)) is not None:
        get_run_logger().warning(note)
    return kept

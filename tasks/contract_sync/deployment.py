"""The deployment a flow run belongs to, as the Prefect server keeps it now.

A run's own parameters are whatever it was started with (a custom run can change any of them);
its deployment's parameters are the settings the operators chose for it. The limits a run keeps
and where its records are both compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import ObjectNotFound


@dataclass(frozen=True)
class RunsDeployment:
    """The deployment of the running flow run, and the flow run's own job variables."""

    id: UUID
    name: str  # `contract-sync/hourly`
    parameters: dict[str, Any]
    job_variables: dict[str, Any]
    runs_job_variables: dict[str, Any]
    exists: bool = True  # False: deleted since the run was created (it keeps no settings)


async def this_runs_deployment() -> RunsDeployment | None:
    """The running flow run's deployment; None for a run without one (a flow called by hand)."""
    context = FlowRunContext.get()
    flow_run = context.flow_run if context is not None else None
    if flow_run is None or flow_run.deployment_id is None:
        return None
    flow_name = context.flow.name if context is not None and context.flow is not None else ""
    try:
        async with get_client() as client:
            deployment = await client.read_deployment(flow_run.deployment_id)
    except ObjectNotFound:
        deleted = str(flow_run.deployment_id)
        return RunsDeployment(flow_run.deployment_id, deleted, {}, {}, {}, exists=False)
    name = f"{flow_name}/{deployment.name}" if flow_name else deployment.name
    return RunsDeployment(
        deployment.id,
        name,
        dict(deployment.parameters or {}),
        dict(deployment.job_variables or {}),
        dict(flow_run.job_variables or {}),
    )

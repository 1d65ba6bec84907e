"""The safety limits a run keeps, and why a run of a deployment cannot loosen its deployment's.

Whoever can start a run can give it any parameter (the Prefect UI's custom run, `prefect
deployment run -p`, the API): `max_harmful_share=1.0` would block everyone a broken IXC answer
says, without asking. So a run of a deployment keeps the deployment's own limits as a ceiling:
it may tighten them, never loosen them. A run that asks for looser limits runs with the
deployment's, so past them it pauses for approval like any other run - the loosening needs a
person, and a lasting change is a change of the deployment (`prefect.yaml` + `make deploy`, or
the deployment's parameters in the UI), which Prefect keeps in its event feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract_sync.guard import DEFAULT_MAX_HARMFUL_COUNT, DEFAULT_MAX_HARMFUL_SHARE, GuardLimits
from contract_sync.texts import say

DEFAULT_MAX_IXC_AGE_SECONDS = 120.0


class RunLimits(BaseModel):
    """The limits a run keeps; each is stricter the smaller it is. Named as the flow's
    parameters."""

    model_config = ConfigDict(frozen=True)

    max_harmful_share: float = Field(default=DEFAULT_MAX_HARMFUL_SHARE, ge=0, le=1)
    max_harmful_count: int = Field(default=DEFAULT_MAX_HARMFUL_COUNT, ge=0)
    max_ixc_age_seconds: float = Field(default=DEFAULT_MAX_IXC_AGE_SECONDS, gt=0)

    @classmethod
    def of_deployment(cls, parameters: Mapping[str, object]) -> RunLimits:
        """The limits a run of a deployment with these parameters keeps when given none: each
        parameter the deployment sets, else the flow's default. A value the flow would refuse
        (set by hand in the UI) counts as the default: the stricter reading, since every
        scheduled run of that deployment fails on it anyway."""
        kept: dict[str, object] = {}
        for name in cls.model_fields:
            if name not in parameters:
                continue
            try:
                cls.model_validate({name: parameters[name]})
            except ValidationError:
                continue
            kept[name] = parameters[name]
        return cls.model_validate(kept)

    def capped_by(self, ceiling: RunLimits) -> RunLimits:
        """These limits, none looser than `ceiling`'s."""
        return RunLimits.model_validate(
            {
                name: min(getattr(self, name), getattr(ceiling, name))
                for name in RunLimits.model_fields
            }
        )

    def looser_than(self, ceiling: RunLimits) -> list[str]:
        """The names of the limits this run asked to loosen past `ceiling`."""
        return [
            name for name in RunLimits.model_fields if getattr(self, name) > getattr(ceiling, name)
        ]

    def shown(self, names: list[str]) -> str:
        """`max_harmful_share=1, max_harmful_count=1000`: these limits as an operator sets them."""
        return ", ".join(f"{name}={getattr(self, name):g}" for name in names)


@dataclass(frozen=True)
class KeptLimits:
    """The limits a run keeps; when it asked for looser ones than its deployment's, what it
    asked and the deployment's."""

    limits: RunLimits
    deployment: str | None = None  # `contract-sync/hourly`, when its limits were kept
    asked: RunLimits | None = None

    @property
    def guard(self) -> GuardLimits:
        return GuardLimits(
            max_share=self.limits.max_harmful_share,
            max_count=self.limits.max_harmful_count,
            kept_from=self.deployment if self._loosened(guard_only=True) else None,
        )

    def note(self, language: str) -> str | None:
        """What the run asked and what holds instead, in the operators' language; None when
        the run kept within its deployment's limits."""
        loosened = self._loosened()
        if not loosened or self.asked is None:
            return None
        return say(
            language,
            "guard.limits_kept",
            asked=self.asked.shown(loosened),
            allowed=self.limits.shown(loosened),
            deployment=self.deployment,
        )

    def _loosened(self, *, guard_only: bool = False) -> list[str]:
        if self.asked is None:
            return []
        names = self.asked.looser_than(self.limits)
        return [name for name in names if not guard_only or name in GUARD_PARAMETERS]


GUARD_PARAMETERS = ("max_harmful_share", "max_harmful_count")


def kept_within(asked: RunLimits, deployments: RunLimits, deployment: str) -> KeptLimits:
    """The limits a run of `deployment` keeps: what it asked, none looser than the
    deployment's."""
    kept = asked.capped_by(deployments)
    if kept == asked:
        return KeptLimits(kept)
    return KeptLimits(kept, deployment, asked)

"""`make demo`: contract-sync for real, against a sandbox provider served on 127.0.0.1.

It prints what an operator reads (pt-BR, the default language).

1. a dry run shows the plan (and that the mass-change guard would ask for approval);
2. the first synchronisation runs with the limits an operator approved for it;
3. a second run shows that, once in step, nothing changes.
Prefect runs embedded (no server to start); the runs stay in PREFECT_HOME for `make ui`.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pandas as pd
from prefect.client.schemas.objects import State

from flows.contract_sync import contract_sync
from reconcile.decide import Action
from reconcile.texts import DEFAULT_LANGUAGE as LANGUAGE
from reconcile.texts import label, say
from sandbox.stack import CHANGES_WEBHOOK, SandboxStack, run_artifact, running_stack
from sandbox.world import demo_provider
from tasks.contract_sync.reporting import DECISIONS_KEY

APPROVED_FIRST_SYNC = {"max_harmful_share": 1.0, "max_harmful_count": 500}
QUIET = {label(LANGUAGE, "action", a) for a in (Action.NO_CHANGE, Action.NOT_MANAGED)}
SHORTENED = {"customer": 28, "reason": 60, "result": 40}


async def decisions(state: State[Any]) -> pd.DataFrame:
    """The run's decisions table exactly as the Prefect UI shows it to an operator."""
    rows = await run_artifact(state.state_details.flow_run_id, DECISIONS_KEY)
    return pd.DataFrame(json.loads(rows))


def show(title: str, state: State[Any], table: pd.DataFrame, stack: SandboxStack) -> None:
    print(f"\n=== {title} ===")
    print(f"Estado da execução: {state.name} - {state.message}")
    action, username = say(LANGUAGE, "column.action"), say(LANGUAGE, "column.username")
    counts = table[action].value_counts()
    print("Decisões: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())))
    interesting = table[~table[action].isin(QUIET)].copy()
    if interesting.empty:
        print("Nada a mudar e nada ignorado.")
    else:
        for column, width in SHORTENED.items():
            name = say(LANGUAGE, f"column.{column}")
            interesting[name] = interesting[name].str.slice(0, width)
        hidden = [say(LANGUAGE, f"column.{c}") for c in ("ixc_status", "ixc_status_internet")]
        with pd.option_context(
            "display.max_rows", 400, "display.width", 240, "display.max_colwidth", 60
        ):
            shown = interesting.drop(columns=hidden).sort_values([action, username])
            print(shown.to_string(index=False))
    sent = stack.messages_to(CHANGES_WEBHOOK)
    print(
        f"Gravações no MagnusBilling até agora: {stack.magnus.saves}; "
        f"mensagens no Discord: {len(sent)}"
    )


async def demo(stack: SandboxStack) -> None:
    dry = await contract_sync(dry_run=True, return_state=True)
    show("1. Simulação: o plano, nada gravado nem enviado", dry, await decisions(dry), stack)

    print(
        "\nO plano bloqueia/desativa mais clientes do que a trava permite sem aprovação "
        f"(10% ou 50). Nesta primeira sincronização o operador aprova: {APPROVED_FIRST_SYNC}"
    )
    first = await contract_sync(**APPROVED_FIRST_SYNC, return_state=True)
    show("2. Primeira sincronização", first, await decisions(first), stack)

    second = await contract_sync(return_state=True)
    show("3. Segunda execução, trava padrão: já em dia", second, await decisions(second), stack)


def main() -> None:
    with running_stack(demo_provider()) as stack:
        print(f"Sandbox em loopback: {stack.urls}")
        stack.save_blocks()
        asyncio.run(demo(stack))
    home = os.environ.get("PREFECT_HOME", "~/.prefect")
    port = os.environ.get("PREFECT_PORT", "4200")
    make_ui = "make ui" if port == "4200" else f"PREFECT_PORT={port} make ui"
    print(
        "\nVeja estas execuções, suas tarefas, novas tentativas e os relatórios na interface do "
        f"Prefect:\n  {make_ui}     (serve as execuções guardadas em {home}), depois abra "
        f"http://127.0.0.1:{port}"
    )


if __name__ == "__main__":
    main()

"""`make demo`: contract-sync for real, against a sandbox provider served on 127.0.0.1.

It prints what an operator reads (pt-BR, the default language).

1. a dry run shows the plan (and that the mass-change guard would ask for approval);
2. the first synchronisation runs with the limits an operator approved for it; one of its
   writes meets a passing MagnusBilling outage (503) and is retried by Prefect;
3. a second run shows that, once in step, nothing changes.
Prefect runs embedded (no server to start); the runs stay in PREFECT_HOME for `make ui`, with
their logs (only the terminal is kept to warnings), their retries, and names and tags that tell
a dry run from a real one.
"""

from __future__ import annotations

import asyncio
import json
import os
import textwrap
from typing import Any

# The terminal shows what the demo prints; the runs keep every log line for `make ui`.
# (PREFECT_LOGGING_LEVEL would also drop the INFO lines the runs send to the Prefect API.)
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

import pandas as pd
from prefect import tags
from prefect.client.schemas.objects import State

from contract_sync.decide import Action
from contract_sync.texts import DEFAULT_LANGUAGE as LANGUAGE
from contract_sync.texts import label, say
from flows.contract_sync import contract_sync
from sandbox.faults import FaultKind, FaultRule
from sandbox.stack import CHANGES_WEBHOOK, SandboxStack, run_artifact, running_stack
from sandbox.world import demo_provider
from tasks.contract_sync.reporting import DECISIONS_KEY

APPROVED_FIRST_SYNC: dict[str, Any] = {"max_harmful_share": 1.0, "max_harmful_count": 500}
QUIET = {label(LANGUAGE, "action", a) for a in (Action.NO_CHANGE, Action.NOT_MANAGED)}
SHORTENED = {"customer": 28, "reason": 60, "result": 40}
DEMO_TAG = "demo"


def run_labels(step: int, dry_run: bool) -> tuple[str, list[str]]:
    """A demo run's name and tags: both say whether it is a dry run (runs list of the UI)."""
    kind = "simulação" if dry_run else "sincronização"
    return f"demo-{step}-{kind}", [DEMO_TAG, kind]


async def labelled_run(step: int, *, dry_run: bool = False, **parameters: Any) -> State[Any]:
    name, run_tags = run_labels(step, dry_run)
    with tags(*run_tags):
        return await contract_sync.with_options(flow_run_name=name)(
            dry_run=dry_run, **parameters, return_state=True
        )


def one_passing_outage(stack: SandboxStack) -> FaultRule:
    """MagnusBilling answers one save with a 503, as in a passing outage: Prefect retries it."""
    return stack.magnus.faults.add(FaultKind.HTTP_503, match=r"user/save", times=1)


def state_text(state: State[Any]) -> str:
    """A run's final state as operators read it: its name in their language, and its message."""
    default_name = state.type.value.title()
    name = say(LANGUAGE, f"state.{default_name}") if state.name == default_name else str(state.name)
    return f"{name} - {state.message}" if state.message else name


def shortened(text: object, width: int) -> str:
    """`text` in at most `width` characters, cut between words, an ellipsis where cut."""
    return textwrap.shorten(str(text), width, placeholder=" …")


async def decisions(state: State[Any]) -> pd.DataFrame:
    """The run's decisions table exactly as the Prefect UI shows it to an operator."""
    assert state.state_details.flow_run_id is not None  # a flow run's state names its run
    rows = await run_artifact(state.state_details.flow_run_id, DECISIONS_KEY)
    return pd.DataFrame(json.loads(rows))


def show(title: str, state: State[Any], table: pd.DataFrame, stack: SandboxStack) -> None:
    print(f"\n=== {title} ===")
    print(f"Estado da execução: {state_text(state)}")
    action, username = say(LANGUAGE, "column.action"), say(LANGUAGE, "column.username")
    counts = table[action].value_counts()
    print("Decisões: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())))
    interesting = table[~table[action].isin(QUIET)].copy()
    if interesting.empty:
        print("Nada a mudar e nada ignorado.")
    else:
        for column, width in SHORTENED.items():
            name = say(LANGUAGE, f"column.{column}")
            interesting[name] = interesting[name].map(lambda text, w=width: shortened(text, w))
        hidden = [say(LANGUAGE, f"column.{c}") for c in ("ixc_status", "ixc_status_internet")]
        with pd.option_context(
            "display.max_rows", 400, "display.width", 240, "display.max_colwidth", 60
        ):
            shown = interesting.drop(columns=hidden).sort_values([action, username])
            print(shown.to_string(index=False))
    sent = stack.messages_to(CHANGES_WEBHOOK)
    magnus = stack.magnus
    print(
        f"Gravações no MagnusBilling até agora: {magnus.saves} "
        f"({sum(magnus.asterisk.save_cost_seconds):.1f} s de CPU do servidor; simultâneas: "
        f"{magnus.overlapping_saves}; recargas do Asterisk com arquivo incompleto: "
        f"{magnus.torn_reloads}); mensagens no Discord: {len(sent)}"
    )


async def demo(stack: SandboxStack) -> None:
    dry = await labelled_run(1, dry_run=True)
    show("1. Simulação: o plano, nada gravado nem enviado", dry, await decisions(dry), stack)

    print(
        "\nO plano bloqueia/desativa mais clientes do que a trava permite sem aprovação "
        f"(10% ou 50). Nesta primeira sincronização o operador aprova: {APPROVED_FIRST_SYNC}"
    )
    outage = one_passing_outage(stack)
    first = await labelled_run(2, **APPROVED_FIRST_SYNC)
    show("2. Primeira sincronização", first, await decisions(first), stack)
    print(
        f"O MagnusBilling recusou {outage.fired} gravação (503, fora do ar por um instante); "
        "o Prefect tentou de novo e ela foi aplicada uma vez só (veja a nova tentativa no "
        "`make ui`)."
    )

    second = await labelled_run(3)
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

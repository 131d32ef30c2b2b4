"""``GET /metrics``: Prometheus text built from the store at scrape time.

Counts come from the database, not from in-process counters, so they are
right after a restart and include work done by ``salesbus run`` on the same
file. The histogram buckets are counted by SQLite, so a scrape costs a few
aggregate queries whatever the number of attempts.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ..states import PENDING
from .reads import Reads
from .runtime_thread import RuntimeThread

__all__ = ["CONTENT_TYPE", "prometheus_text"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class _Snapshot(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics


async def prometheus_text(reads: Reads, runtime: RuntimeThread) -> bytes:
    states = await reads.states()
    workflows = GaugeMetricFamily("salesbus_workflows", "Workflows by state.", labels=["state"])
    for state, count in sorted(states.items()):
        workflows.add_metric([state], count)

    latency = HistogramMetricFamily(
        "salesbus_step_duration_seconds", "Step attempt durations.", labels=["step"]
    )
    for step, (cumulative, count, total) in (await reads.step_latency(LATENCY_BOUNDS)).items():
        buckets = [(repr(b), c) for b, c in zip(LATENCY_BOUNDS, cumulative, strict=True)]
        latency.add_metric([step], [*buckets, ("+Inf", count)], sum_value=total)

    attempts = CounterMetricFamily(
        "salesbus_step_attempts", "Step attempts by outcome.", labels=["step", "status"]
    )
    for (step, status), count in sorted((await reads.attempt_counts()).items()):
        attempts.add_metric([step, status], count)

    usage = await reads.usage()
    retries = CounterMetricFamily("salesbus_retries", "Attempts beyond each step's first.")
    retries.add_metric([], usage.retries)
    tokens = CounterMetricFamily("salesbus_tokens", "Model tokens.", labels=["direction"])
    tokens.add_metric(["input"], usage.input_tokens)
    tokens.add_metric(["output"], usage.output_tokens)
    cost = CounterMetricFamily("salesbus_cost_usd", "Model cost in US dollars.")
    cost.add_metric([], usage.cost_usd)

    queue = GaugeMetricFamily(
        "salesbus_queue_depth", "Workflows pending admission (state pending, all batches)."
    )
    queue.add_metric([], states.get(PENDING, 0))
    in_flight = GaugeMetricFamily("salesbus_in_flight", "Workflows admitted and not settled.")
    in_flight.add_metric([], runtime.in_flight)
    running = GaugeMetricFamily("salesbus_batches_running", "Batches this process runs now.")
    running.add_metric([], runtime.running_batches)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        _Snapshot([workflows, latency, attempts, retries, tokens, cost, queue, in_flight, running])
    )
    return generate_latest(registry)

"""The live progress display of ``salesbus run`` and the summary printed after it."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .engine import BatchProgress
from .metrics import BatchMetrics
from .states import TERMINAL_STATES

__all__ = ["render_metrics", "run_progress", "state_line"]


def state_line(progress: BatchProgress) -> str:
    """Counts by state, failures, tokens and cost, in one line."""
    states = ", ".join(
        f"{state} {count}" for state, count in sorted(progress.states.items()) if count
    )
    tokens = progress.input_tokens + progress.output_tokens
    return (
        f"{states} | failed attempts {progress.attempts_failed}, retries {progress.retries}"
        f" | {progress.calls} calls, {tokens:,} tokens, ${progress.cost_usd:.4f}"
    )


async def run_progress(
    read: Callable[[], BatchProgress], console: Console, interval: float = 0.25
) -> None:
    """Redraw a progress bar from ``read()`` until cancelled."""
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    started = time.monotonic()
    with Progress(*columns, TextColumn("{task.fields[states]}"), console=console) as bar:
        task = bar.add_task("companies", total=None, rate="", states="")
        while True:
            progress = read()
            done = sum(n for s, n in progress.states.items() if s in TERMINAL_STATES)
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.update(
                task,
                total=progress.total or None,
                completed=done,
                rate=f"{done / elapsed:.1f}/s",
                states=state_line(progress),
            )
            await anyio.sleep(interval)


def render_metrics(metrics: BatchMetrics, console: Console) -> None:
    """The ``salesbus metrics`` report."""
    console.print(f"[bold]batch {metrics.batch_id}[/]: {metrics.total} workflows")
    states = Table("state", "count", title="workflows by state")
    for state, count in sorted(metrics.states.items()):
        states.add_row(state, str(count))
    console.print(states)
    rate = metrics.success_rate
    console.print(
        "success rate (completed / finished): "
        + (f"{rate:.1%}" if rate is not None else "n/a (nothing finished)")
    )
    interrupted = ["interrupted"] if metrics.interrupted else []
    steps = Table(
        "step",
        "attempts",
        "ok",
        "failed",
        *interrupted,
        "skipped",
        "p50 ms",
        "p95 ms",
        "tokens",
        "cost $",
        title="steps",
    )
    for step in metrics.steps:
        steps.add_row(
            step.step,
            str(step.attempts),
            str(step.succeeded),
            str(step.failed),
            *([str(step.abandoned)] if interrupted else []),
            str(step.skipped),
            _ms(step.p50_ms),
            _ms(step.p95_ms),
            f"{step.input_tokens + step.output_tokens:,}",
            f"{step.cost_usd:.4f}",
        )
    console.print(steps)
    if metrics.top_failures:
        console.print("most common failures:")
        for where, count in metrics.top_failures:
            console.print(f"  {count:>5}  {where}")
    console.print(
        f"LLM: {metrics.calls} calls, {metrics.input_tokens:,} input tokens,"
        f" {metrics.output_tokens:,} output tokens, ${metrics.cost_usd:.4f}"
    )
    if metrics.interrupted:
        console.print(
            f"[yellow]{metrics.interrupted} attempt(s) were interrupted by a kill or stop:[/]"
            " their model calls and cost are unknown and not included above"
        )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"

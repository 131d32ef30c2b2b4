"""The store's step attempts: each attempt's start, end and output as statements for the
caller's group commit, and the reads a restart needs (where a workflow stands)."""

from __future__ import annotations

from typing import Any

from salesbus.bus import Event

from .payloads import PAYLOAD_VERSION, StoredPayload, carried_fields, expand, load_payload
from .store_core import StoreCore
from .store_records import (
    AttemptRecord,
    ResumePoint,
    StepHistory,
    WorkflowRecord,
    attempt_from_row,
    now,
)
from .writer import Statement

__all__ = ["AttemptStore"]


class AttemptStore(StoreCore):
    """Step attempts and their outputs."""

    # -- step attempts -------------------------------------------------------------

    def attempt_started(
        self, workflow_id: str, step: str, attempt: int, input_event: Event
    ) -> Statement:
        """Record a running attempt; its input is the event log's entry ``input_event_id``."""
        return (
            "INSERT INTO step_attempts (workflow_id, step, attempt, status, started_at,"
            " input_event_id) VALUES (?, ?, ?, 'running', ?, ?)"
            # The outcome may be stored first (two inboxes, no order between them):
            # then only the input's id is added to it.
            " ON CONFLICT (workflow_id, step, attempt) DO UPDATE SET"
            " input_event_id = excluded.input_event_id",
            (
                workflow_id,
                step,
                attempt,
                now(),
                input_event.event_id,
            ),
        )

    def attempt_finished(
        self,
        workflow_id: str,
        step: str,
        attempt: int,
        *,
        status: str,
        duration_ms: float,
        usage: dict[str, Any],
        error: dict[str, Any] | None = None,
    ) -> Statement:
        """Close an attempt; a success is refused when the step already succeeded.

        A success's output is written by :meth:`step_output`, next in the same write.
        """
        error = error or {}
        guard = (
            " AND NOT EXISTS (SELECT 1 FROM step_attempts s WHERE s.workflow_id = ?"
            " AND s.step = ? AND s.status = 'succeeded')"
        )
        return (
            "INSERT INTO step_attempts (workflow_id, step, attempt, status, started_at, ended_at,"
            " duration_ms, error_kind, error_message, retryable, retry_after,"
            " calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd)"
            " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
            " WHERE 1" + (guard if status == "succeeded" else "") + " ON CONFLICT"
            " (workflow_id, step, attempt) DO UPDATE SET status = excluded.status,"
            " ended_at = excluded.ended_at, duration_ms = excluded.duration_ms,"
            " error_kind = excluded.error_kind, error_message = excluded.error_message,"
            " retryable = excluded.retryable, retry_after = excluded.retry_after,"
            " calls = excluded.calls,"
            " input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
            " cache_read_tokens = excluded.cache_read_tokens,"
            " cache_write_tokens = excluded.cache_write_tokens, cost_usd = excluded.cost_usd",
            (
                workflow_id,
                step,
                attempt,
                status,
                now(),
                now(),
                duration_ms,
                error.get("kind"),
                error.get("message"),
                None if not error else int(bool(error.get("retryable"))),
                error.get("retry_after"),
                usage.get("calls", 0),
                usage.get("input_tokens", 0),
                usage.get("output_tokens", 0),
                usage.get("cache_read_tokens", 0),
                usage.get("cache_write_tokens", 0),
                usage.get("cost_usd", 0.0),
            )
            + ((workflow_id, step) if status == "succeeded" else ()),
        )

    def step_output(
        self,
        workflow_id: str,
        step: str,
        attempt: int,
        output: Event,
        input_event: Event | None = None,
    ) -> Statement:
        """Store a succeeded attempt's output (nothing if the success was refused).

        A table of its own, written once when the step succeeds: appended rows
        pack pages full, where an attempt row growing by kilobytes when it ends
        split pages half empty. Given the step's ``input_event``, what the output
        carries over from it is not stored again (see ``payloads.py``).
        """
        return (
            "INSERT OR IGNORE INTO step_outputs (attempt_id, payload_version, payload)"
            " SELECT id, ?, ? FROM step_attempts WHERE workflow_id = ? AND step = ?"
            " AND attempt = ? AND status = 'succeeded'",
            (
                PAYLOAD_VERSION,
                StoredPayload(output, carried_fields(output, input_event)),
                workflow_id,
                step,
                attempt,
            ),
        )

    def abandon_running_attempts(self, batch_id: str) -> Statement:
        """Attempts a crash or a stop interrupted: ``abandoned``, outside the retry budget.

        Called only by the holder of the batch's lease, so no other process is
        running them.
        """
        return (
            "UPDATE step_attempts SET status = 'abandoned', ended_at = ?,"
            " error_kind = 'interrupted', error_message = 'the process stopped mid-attempt'"
            " WHERE status = 'running' AND workflow_id IN"
            " (SELECT workflow_id FROM batch_members WHERE batch_id = ?)",
            (now(), batch_id),
        )

    def cut_off_running_attempts(self, workflow_id: str) -> Statement:
        """A workflow failed while a step of it ran: that attempt's outcome will be ignored."""
        return (
            "UPDATE step_attempts SET status = 'abandoned', ended_at = ?,"
            " error_kind = 'cut_off', error_message = 'the workflow failed while it ran'"
            " WHERE status = 'running' AND workflow_id = ?",
            (now(), workflow_id),
        )

    async def attempts(self, workflow_id: str) -> list[AttemptRecord]:
        """Every attempt of a workflow in order, outputs whole (see ``payloads.expand``)."""
        rows = await self._rows(
            "SELECT a.*, COALESCE(o.payload, a.output_json) AS stored_output"
            " FROM step_attempts a LEFT JOIN step_outputs o ON o.attempt_id = a.id"
            " WHERE a.workflow_id = ? ORDER BY a.id",
            (workflow_id,),
        )
        records: list[AttemptRecord] = []
        previous: str | None = None
        for row in rows:
            output = row["stored_output"]
            if output is not None:
                output = expand(load_payload(output), previous)
                if row["status"] == "succeeded":
                    previous = output
            records.append(attempt_from_row(row, output))
        return records

    async def resume_point(self, workflow: WorkflowRecord) -> ResumePoint:
        """Where a workflow stands: each succeeded step's output, and each step's history.

        Failures and crashes count from the workflow's ``retry_base`` for the step
        it is at (a manual retry sets attempts before it aside).
        """
        rows = await self._rows(
            "SELECT a.step, a.status, a.attempt, COALESCE(o.payload, a.output_json) AS output"
            " FROM step_attempts a LEFT JOIN step_outputs o ON o.attempt_id = a.id"
            " WHERE a.workflow_id = ? ORDER BY a.id",
            (workflow.id,),
        )
        point = ResumePoint()
        previous: str | None = None
        for row in rows:
            step, status, attempt = row["step"], row["status"], int(row["attempt"])
            history = point.steps.setdefault(step, StepHistory())
            history.last_attempt = max(history.last_attempt, attempt)
            base = workflow.retry_base if step == workflow.step else 0
            if attempt <= base:
                continue
            if status == "succeeded" and row["output"] is not None:
                previous = expand(load_payload(row["output"]), previous)
                point.outputs[step] = previous
            elif status == "failed":
                history.failures += 1
            elif status == "abandoned":
                history.crashes += 1
        return point

"""The store's aggregates over attempts: what ``metrics`` and ``estimate`` show, counted by
SQLite so a batch's attempts are never read whole."""

from __future__ import annotations

import aiosqlite

from .store_core import StoreCore

__all__ = ["FigureQueries"]


class FigureQueries(StoreCore):
    """Per-step totals, durations, failure points and per-company usage."""

    async def usage_per_company(self, model: str) -> dict[str, dict[str, float]]:
        """Per step, what one company used on ``model`` in earlier runs, averaged over
        the workflows that finished the step (every attempt counted, repairs and
        retries included): ``calls``, token kinds, ``cost_usd`` and ``companies``."""
        rows = await self._rows(
            "SELECT a.step, COUNT(DISTINCT a.workflow_id) AS companies,"
            " SUM(a.calls) AS calls, SUM(a.input_tokens) AS input_tokens,"
            " SUM(a.output_tokens) AS output_tokens, SUM(a.cache_read_tokens) AS cache_read,"
            " SUM(a.cache_write_tokens) AS cache_write, SUM(a.cost_usd) AS cost_usd"
            " FROM step_attempts a JOIN workflows w ON w.id = a.workflow_id"
            " JOIN batches b ON b.id = w.batch_id"
            " WHERE b.model = ? AND a.workflow_id IN (SELECT workflow_id FROM step_attempts"
            "  WHERE step = a.step AND status = 'succeeded')"
            " GROUP BY a.step",
            (model,),
        )
        figures = {}
        for row in rows:
            companies = row["companies"]
            figures[row["step"]] = {
                key: (row[key] or 0) / companies
                for key in (
                    "calls",
                    "input_tokens",
                    "output_tokens",
                    "cache_read",
                    "cache_write",
                    "cost_usd",
                )
            } | {"companies": companies}
        return figures

    async def step_totals(self, batch_id: str) -> list[aiosqlite.Row]:
        """Per step and status: attempts, calls, tokens, cost (in first-seen step order)."""
        return await self._rows(
            "SELECT a.step, a.status, COUNT(*) AS n, MIN(a.id) AS first, SUM(a.calls) AS calls,"
            " SUM(a.input_tokens + a.cache_read_tokens + a.cache_write_tokens) AS input_tokens,"
            " SUM(a.cache_read_tokens) AS cache_read_tokens,"
            " SUM(a.cache_write_tokens) AS cache_write_tokens,"
            " SUM(a.output_tokens) AS output_tokens, SUM(a.cost_usd) AS cost_usd"
            " FROM batch_members m JOIN step_attempts a ON a.workflow_id = m.workflow_id"
            " WHERE m.batch_id = ? GROUP BY a.step, a.status ORDER BY first",
            (batch_id,),
        )

    async def duration_rank(self, batch_id: str, step: str, rank: int) -> float | None:
        """The ``rank``-th (1-based) shortest finished duration of a step in the batch."""
        row = await self._one(
            "SELECT a.duration_ms FROM batch_members m JOIN step_attempts a"
            " ON a.workflow_id = m.workflow_id WHERE m.batch_id = ? AND a.step = ?"
            " AND a.duration_ms IS NOT NULL AND a.status IN ('succeeded', 'failed', 'skipped')"
            " ORDER BY a.duration_ms LIMIT 1 OFFSET ?",
            (batch_id, step, rank - 1),
        )
        return None if row is None else float(row["duration_ms"])

    async def duration_count(self, batch_id: str, step: str) -> int:
        row = await self._one(
            "SELECT COUNT(*) AS n FROM batch_members m JOIN step_attempts a"
            " ON a.workflow_id = m.workflow_id WHERE m.batch_id = ? AND a.step = ?"
            " AND a.duration_ms IS NOT NULL AND a.status IN ('succeeded', 'failed', 'skipped')",
            (batch_id, step),
        )
        return 0 if row is None else int(row["n"])

    async def top_failures(self, batch_id: str, limit: int = 5) -> list[tuple[str, int]]:
        rows = await self._rows(
            "SELECT a.step || ': ' || a.error_kind AS what, COUNT(*) AS n"
            " FROM batch_members m JOIN step_attempts a ON a.workflow_id = m.workflow_id"
            " WHERE m.batch_id = ? AND a.status IN ('failed', 'abandoned')"
            " GROUP BY a.step, a.error_kind ORDER BY n DESC, what LIMIT ?",
            (batch_id, limit),
        )
        return [(str(r["what"]), int(r["n"])) for r in rows]

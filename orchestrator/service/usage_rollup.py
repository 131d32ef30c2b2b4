"""Each batch's usage totals (attempts, calls, tokens, cost, retries) kept as rows are written.

``GET /batches/{id}`` is what dashboards poll while batches run. Summing a
batch's step attempts grows with the batch: 15 ms at 9,000 attempts, about
250 ms for a 50,000-company batch, on every poll. So the sums are kept in
``batch_usage``, one row per batch, by SQLite triggers on ``step_attempts``:
each insert, update or delete of an attempt adds or takes away its share in
the same transaction as the write itself. The totals are therefore exactly as
durable as the attempts, whichever process wrote them (``serve``, a
``salesbus run`` of the same file, a worker), across a kill and a resume, a
retry (``retrying.reopen``), a ``--refresh`` and an approval; and a read is
one primary-key lookup whatever the batch's size.

The triggers live in the database file, not in the schema's migrations: the
service installs them (:func:`install_rollup`) each time it starts, dropping
any earlier ones and recomputing the table from the attempts in the same
write transaction, so a file that was written before (or by a version
without them) starts out right, and a migration that rebuilt
``step_attempts`` (which drops its triggers) is healed on the next start.
That seed is the only full scan: once per start, not per read.

Retries are attempts minus distinct (workflow, step) pairs, as before; a
trigger counts a pair when the row it adds is the pair's only one, and
uncounts it when the row it removes was.
"""

from __future__ import annotations

from ..store import Store
from ..writer import Statement

__all__ = ["ROLLUP_TABLE", "install_rollup", "rollup_statements"]

ROLLUP_TABLE = "batch_usage"

_COLUMNS = "batch_id, attempts, steps, calls, input_tokens, output_tokens, cost_usd"

_ACCUMULATE = (
    " ON CONFLICT (batch_id) DO UPDATE SET attempts = attempts + excluded.attempts,"
    " steps = steps + excluded.steps, calls = calls + excluded.calls,"
    " input_tokens = input_tokens + excluded.input_tokens,"
    " output_tokens = output_tokens + excluded.output_tokens,"
    " cost_usd = cost_usd + excluded.cost_usd;"
)


def _share(row: str, sign: str) -> str:
    """Add (``+``) or take away (``-``) one attempt row's share (``NEW`` or ``OLD``).

    The pair (workflow, step) counts when no other row has it: the row just
    added is its first, or the row just removed was its last.
    """
    return (
        f"INSERT INTO {ROLLUP_TABLE} ({_COLUMNS})"
        f" SELECT w.batch_id, {sign}1,"
        f" {sign}(NOT EXISTS (SELECT 1 FROM step_attempts s WHERE s.workflow_id = {row}.workflow_id"
        f" AND s.step = {row}.step AND s.id != {row}.id)),"
        f" {sign}{row}.calls,"
        f" {sign}({row}.input_tokens + {row}.cache_read_tokens + {row}.cache_write_tokens),"
        f" {sign}{row}.output_tokens, {sign}{row}.cost_usd"
        f" FROM workflows w WHERE w.id = {row}.workflow_id" + _ACCUMULATE
    )


_TRIGGERS = {
    f"{ROLLUP_TABLE}_on_insert": f"AFTER INSERT ON step_attempts BEGIN {_share('NEW', '+')} END",
    f"{ROLLUP_TABLE}_on_delete": f"AFTER DELETE ON step_attempts BEGIN {_share('OLD', '-')} END",
    # Only the columns that count: an attempt's status changing (running, superseded,
    # abandoned) costs no rollup write.
    f"{ROLLUP_TABLE}_on_update": (
        "AFTER UPDATE OF workflow_id, step, calls, input_tokens, output_tokens,"
        " cache_read_tokens, cache_write_tokens, cost_usd ON step_attempts"
        f" BEGIN {_share('OLD', '-')} {_share('NEW', '+')} END"
    ),
}

_SEED = (
    f"INSERT INTO {ROLLUP_TABLE} ({_COLUMNS})"
    " SELECT w.batch_id, COUNT(*), COUNT(DISTINCT a.workflow_id || char(0) || a.step),"
    " SUM(a.calls), SUM(a.input_tokens + a.cache_read_tokens + a.cache_write_tokens),"
    " SUM(a.output_tokens), SUM(a.cost_usd)"
    " FROM step_attempts a JOIN workflows w ON w.id = a.workflow_id GROUP BY w.batch_id"
)


def rollup_statements() -> list[Statement]:
    """Drop, recompute and re-arm the rollup: one write transaction, so no attempt
    written meanwhile by another process is counted twice or missed."""
    return [
        *((f"DROP TRIGGER IF EXISTS {name}", ()) for name in _TRIGGERS),
        (
            f"CREATE TABLE IF NOT EXISTS {ROLLUP_TABLE} ("
            " batch_id TEXT PRIMARY KEY, attempts INTEGER NOT NULL, steps INTEGER NOT NULL,"
            " calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL,"
            " output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL)",
            (),
        ),
        (f"DELETE FROM {ROLLUP_TABLE}", ()),
        (_SEED, ()),
        *((f"CREATE TRIGGER {name} {body}", ()) for name, body in _TRIGGERS.items()),
    ]


async def install_rollup(store: Store) -> None:
    """Recompute ``batch_usage`` from the attempts and keep it current from now on.

    :raises StoreError: the write failed (the service does not start half-counted).
    """
    await store.commit(rollup_statements())

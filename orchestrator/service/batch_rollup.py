"""Each batch's summary (usage totals, counts by state) kept up to date as rows are written.

``GET /batches/{id}`` is what dashboards poll while batches run. Summing a
batch's step attempts grows with the batch: 15 ms at 9,000 attempts, about
250 ms for a 50,000-company batch, on every poll; even counting its workflows
by state through the ``(batch_id, state)`` index takes 7 ms at 50,000. So both
are kept by SQLite triggers, in the same transaction as the write itself:
``batch_usage`` (one row per batch: attempts, distinct steps, calls, tokens,
cost) by inserts, updates and deletes of ``step_attempts``, and
``batch_states`` (one row per batch and state) by those of ``workflows``. The
totals are therefore exactly as
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
That seed is the only full scan: once per start (about a second at 50,000
companies), not per read.

Retries are attempts minus distinct (workflow, step) pairs, as before; a
trigger counts a pair when the row it adds is the pair's only one, and
uncounts it when the row it removes was.
"""

from __future__ import annotations

from ..store import Store
from ..writer import Statement

__all__ = ["STATES_TABLE", "USAGE_TABLE", "install_rollup", "rollup_statements"]

USAGE_TABLE = "batch_usage"
STATES_TABLE = "batch_states"

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
        f"INSERT INTO {USAGE_TABLE} ({_COLUMNS})"
        f" SELECT w.batch_id, {sign}1,"
        f" {sign}(NOT EXISTS (SELECT 1 FROM step_attempts s WHERE s.workflow_id = {row}.workflow_id"
        f" AND s.step = {row}.step AND s.id != {row}.id)),"
        f" {sign}{row}.calls,"
        f" {sign}({row}.input_tokens + {row}.cache_read_tokens + {row}.cache_write_tokens),"
        f" {sign}{row}.output_tokens, {sign}{row}.cost_usd"
        f" FROM workflows w WHERE w.id = {row}.workflow_id" + _ACCUMULATE
    )


_COUNTED = (
    "workflow_id, step, calls, input_tokens, output_tokens, cache_read_tokens,"
    " cache_write_tokens, cost_usd"
)


def _difference() -> str:
    """An attempt's usage rewritten in place: add what changed (its step counts already)."""
    return (
        f"INSERT INTO {USAGE_TABLE} ({_COLUMNS})"
        " SELECT w.batch_id, 0, 0, NEW.calls - OLD.calls,"
        " (NEW.input_tokens + NEW.cache_read_tokens + NEW.cache_write_tokens)"
        " - (OLD.input_tokens + OLD.cache_read_tokens + OLD.cache_write_tokens),"
        " NEW.output_tokens - OLD.output_tokens, NEW.cost_usd - OLD.cost_usd"
        " FROM workflows w WHERE w.id = NEW.workflow_id" + _ACCUMULATE
    )


_TRIGGERS = {
    f"{USAGE_TABLE}_on_insert": f"AFTER INSERT ON step_attempts BEGIN {_share('NEW', '+')} END",
    f"{USAGE_TABLE}_on_delete": f"AFTER DELETE ON step_attempts BEGIN {_share('OLD', '-')} END",
    # Only the columns that count: an attempt's status changing (running, superseded,
    # abandoned) costs no rollup write. An attempt closed in place (the usual update)
    # keeps its step: one write of the difference, no lookup of the step's other rows.
    f"{USAGE_TABLE}_on_update": (
        f"AFTER UPDATE OF {_COUNTED} ON step_attempts"
        " WHEN OLD.workflow_id = NEW.workflow_id AND OLD.step = NEW.step"
        f" BEGIN {_difference()} END"
    ),
    f"{USAGE_TABLE}_on_move": (
        f"AFTER UPDATE OF {_COUNTED} ON step_attempts"
        " WHEN OLD.workflow_id IS NOT NEW.workflow_id OR OLD.step IS NOT NEW.step"
        f" BEGIN {_share('OLD', '-')} {_share('NEW', '+')} END"
    ),
}

_SEED = (
    f"INSERT INTO {USAGE_TABLE} ({_COLUMNS})"
    " SELECT w.batch_id, COUNT(*), COUNT(DISTINCT a.workflow_id || char(0) || a.step),"
    " SUM(a.calls), SUM(a.input_tokens + a.cache_read_tokens + a.cache_write_tokens),"
    " SUM(a.output_tokens), SUM(a.cost_usd)"
    " FROM step_attempts a JOIN workflows w ON w.id = a.workflow_id GROUP BY w.batch_id"
)


def _count(row: str, sign: str) -> str:
    """Count a workflow (``NEW``) in its batch and state, or uncount it (``OLD``)."""
    return (
        f"INSERT INTO {STATES_TABLE} (batch_id, state, n) VALUES ({row}.batch_id, {row}.state,"
        f" {sign}1) ON CONFLICT (batch_id, state) DO UPDATE SET n = n + excluded.n;"
    )


_STATE_TRIGGERS = {
    f"{STATES_TABLE}_on_insert": f"AFTER INSERT ON workflows BEGIN {_count('NEW', '+')} END",
    f"{STATES_TABLE}_on_delete": f"AFTER DELETE ON workflows BEGIN {_count('OLD', '-')} END",
    f"{STATES_TABLE}_on_update": (
        "AFTER UPDATE OF batch_id, state ON workflows"
        " WHEN OLD.state IS NOT NEW.state OR OLD.batch_id IS NOT NEW.batch_id"
        f" BEGIN {_count('OLD', '-')} {_count('NEW', '+')} END"
    ),
}


def rollup_statements() -> list[Statement]:
    """Drop, recompute and re-arm the rollups: one write transaction, so no row
    written meanwhile by another process is counted twice or missed."""
    triggers = {**_TRIGGERS, **_STATE_TRIGGERS}
    return [
        *((f"DROP TRIGGER IF EXISTS {name}", ()) for name in triggers),
        (
            f"CREATE TABLE IF NOT EXISTS {USAGE_TABLE} ("
            " batch_id TEXT PRIMARY KEY, attempts INTEGER NOT NULL, steps INTEGER NOT NULL,"
            " calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL,"
            " output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL)",
            (),
        ),
        (
            f"CREATE TABLE IF NOT EXISTS {STATES_TABLE} (batch_id TEXT NOT NULL,"
            " state TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (batch_id, state))"
            " WITHOUT ROWID",
            (),
        ),
        (f"DELETE FROM {USAGE_TABLE}", ()),
        (f"DELETE FROM {STATES_TABLE}", ()),
        (_SEED, ()),
        (
            f"INSERT INTO {STATES_TABLE} (batch_id, state, n)"
            " SELECT batch_id, state, COUNT(*) FROM workflows GROUP BY batch_id, state",
            (),
        ),
        *((f"CREATE TRIGGER {name} {body}", ()) for name, body in triggers.items()),
    ]


async def install_rollup(store: Store) -> None:
    """Recompute ``batch_usage`` and ``batch_states`` from the store; keep them current.

    :raises StoreError: the write failed (the service does not start half-counted).
    """
    await store.commit(rollup_statements())

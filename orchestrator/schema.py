"""The store's schema, versioned with ``PRAGMA user_version`` and migrated on open.

Each migration is a list of statements applied in one transaction; a database
at version N gets migrations N+1… and nothing else, so an old file keeps
working after an upgrade. A database newer than this code is refused with a
message naming both versions.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

MIGRATIONS: list[list[str]] = [
    # 1: batches, workflows, step attempts, approval decisions, the event log.
    [
        """
        CREATE TABLE batches (
            id              TEXT PRIMARY KEY,
            created_at      TEXT NOT NULL,
            leads_path      TEXT,
            leads_digest    TEXT NOT NULL,
            campaign_json   TEXT NOT NULL,
            campaign_digest TEXT NOT NULL,
            provider        TEXT NOT NULL,
            model           TEXT NOT NULL,
            settings_json   TEXT NOT NULL DEFAULT '{}'
        )
        """,
        """
        CREATE TABLE workflows (
            id            TEXT PRIMARY KEY,
            batch_id      TEXT NOT NULL REFERENCES batches(id),
            seq           INTEGER NOT NULL,
            company_key   TEXT NOT NULL,
            company_name  TEXT NOT NULL,
            company_json  TEXT NOT NULL,
            line          INTEGER,
            state         TEXT NOT NULL,
            step          TEXT,
            reason        TEXT,
            retry_base    INTEGER NOT NULL DEFAULT 0,
            trace_id      TEXT,
            span_id       TEXT,
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL,
            finished_at   TEXT,
            UNIQUE (batch_id, company_key)
        )
        """,
        "CREATE INDEX workflows_by_batch_state ON workflows (batch_id, state)",
        """
        CREATE TABLE step_attempts (
            id                 INTEGER PRIMARY KEY,
            workflow_id        TEXT NOT NULL REFERENCES workflows(id),
            step               TEXT NOT NULL,
            attempt            INTEGER NOT NULL,
            status             TEXT NOT NULL,
            started_at         TEXT NOT NULL,
            ended_at           TEXT,
            duration_ms        REAL,
            error_kind         TEXT,
            error_message      TEXT,
            retryable          INTEGER,
            retry_after        REAL,
            input_event_id     TEXT,
            input_json         TEXT,
            output_json        TEXT,
            calls              INTEGER NOT NULL DEFAULT 0,
            input_tokens       INTEGER NOT NULL DEFAULT 0,
            output_tokens      INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd           REAL NOT NULL DEFAULT 0,
            UNIQUE (workflow_id, step, attempt)
        )
        """,
        # The durable guarantee, enforced by the database itself: a step of a
        # workflow succeeds at most once, whatever crashes or redeliveries happen.
        """
        CREATE UNIQUE INDEX one_success_per_step
            ON step_attempts (workflow_id, step) WHERE status = 'succeeded'
        """,
        """
        CREATE TABLE decisions (
            id            INTEGER PRIMARY KEY,
            workflow_id   TEXT NOT NULL REFERENCES workflows(id),
            decision      TEXT NOT NULL,
            note          TEXT,
            outreach_json TEXT,
            decided_at    TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE events (
            seq          INTEGER PRIMARY KEY,
            event_id     TEXT NOT NULL UNIQUE,
            type         TEXT NOT NULL,
            workflow_id  TEXT,
            causation_id TEXT,
            occurred_at  TEXT NOT NULL,
            body         TEXT NOT NULL
        )
        """,
        "CREATE INDEX events_by_workflow ON events (workflow_id, seq)",
    ],
    # 2: workflows identified by campaign, model and company, grouped into batches
    # by membership (a rerun with rows added reuses every unchanged workflow); a
    # lease per workflow scope; who decided; compressed, versioned payloads.
    [
        """
        CREATE TABLE batch_members (
            batch_id    TEXT NOT NULL REFERENCES batches(id),
            workflow_id TEXT NOT NULL REFERENCES workflows(id),
            seq         INTEGER NOT NULL,
            PRIMARY KEY (batch_id, workflow_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX batch_members_in_order ON batch_members (batch_id, seq)",
        "INSERT INTO batch_members (batch_id, workflow_id, seq) SELECT batch_id, id, seq"
        " FROM workflows",
        """
        CREATE TABLE leases (
            scope        TEXT PRIMARY KEY,
            owner        TEXT NOT NULL,
            acquired_at  REAL NOT NULL,
            heartbeat_at REAL NOT NULL
        )
        """,
        "ALTER TABLE decisions ADD COLUMN reviewer TEXT",
        # A succeeded attempt's output, written once (schema 1 kept it in
        # step_attempts.output_json, which older rows still use). Rows are
        # appended in the order steps finish (their own rowid), so pages pack full.
        # payload_version 2: stored once, JSON, zlib-compressed when large (a BLOB).
        """
        CREATE TABLE step_outputs (
            id              INTEGER PRIMARY KEY,
            attempt_id      INTEGER NOT NULL UNIQUE REFERENCES step_attempts(id),
            payload_version INTEGER NOT NULL,
            payload         BLOB NOT NULL
        )
        """,
    ],
    # 3: Message Batches requests (``run --batch-api``), recorded before anyone
    # waits for them, so a rerun after a kill waits for the batch it already paid for.
    [
        """
        CREATE TABLE message_batch_requests (
            batch_id       TEXT NOT NULL,
            custom_id      TEXT NOT NULL,
            workflow_id    TEXT NOT NULL,
            step           TEXT NOT NULL,
            attempt        INTEGER NOT NULL,
            call           INTEGER NOT NULL,
            request_digest TEXT NOT NULL,
            state          TEXT NOT NULL,
            reason         TEXT,
            sent_at        TEXT NOT NULL,
            settled_at     TEXT,
            PRIMARY KEY (batch_id, custom_id)
        ) WITHOUT ROWID
        """,
        """
        CREATE INDEX message_batch_requests_pending
            ON message_batch_requests (workflow_id, step, request_digest, sent_at)
            WHERE state = 'pending'
        """,
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)

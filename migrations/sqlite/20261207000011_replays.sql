-- Bulk replays: "redeliver every failed call of this webhook in a time range". The calls are
-- chosen when the replay is created (its items); any instance carries a running replay on
-- under a lease, paced, and each item is sent at most once. One running replay per webhook.
CREATE TABLE replays (
    id               TEXT PRIMARY KEY,
    owner_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent_id         TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    webhook_id       TEXT NOT NULL,
    since            TEXT NOT NULL,
    until            TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'cancelled')),
    total            INTEGER NOT NULL,
    sent             INTEGER NOT NULL DEFAULT 0,
    ok               INTEGER NOT NULL DEFAULT 0,
    failed           INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER
);
CREATE UNIQUE INDEX replays_one_running ON replays(agent_id, webhook_id) WHERE state = 'running';
CREATE INDEX replays_running ON replays(lease_expires_at) WHERE state = 'running';

CREATE TABLE replay_items (
    replay_id   TEXT NOT NULL REFERENCES replays(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    call_id     TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    -- The failed delivery it redelivers, and the new one once started (sent at most once).
    original_id TEXT NOT NULL,
    delivery_id TEXT,
    PRIMARY KEY (replay_id, position)
);

CREATE INDEX deliveries_replay ON deliveries(replay_id) WHERE replay_id IS NOT NULL;
-- The searchable log. Each filter that may match few rows has an index of its own, newest
-- first; so that the path every delivery takes (inserted `sending`, then updated to `ok` with a
-- 2xx) stays out of them, each is partial: only failures, only kinds other than `event`, only
-- statuses from 300. A query filtering on one of them repeats the index's condition, which is
-- what lets SQLite and PostgreSQL use it.
CREATE INDEX deliveries_agent_outcome ON deliveries(agent_id, outcome, started_at) WHERE outcome NOT IN ('ok', 'sending');
CREATE INDEX deliveries_webhook_outcome ON deliveries(agent_id, webhook_id, outcome, started_at) WHERE outcome NOT IN ('ok', 'sending');
CREATE INDEX deliveries_agent_kind ON deliveries(agent_id, kind, started_at) WHERE kind <> 'event';
-- Statuses by class (4xx, 5xx), so that a class and a code within it both walk it newest first.
CREATE INDEX deliveries_agent_status ON deliveries(agent_id, (status_code / 100), started_at) WHERE status_code >= 300;

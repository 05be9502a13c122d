-- The states are enums in the code (voicy_model::states); the database takes only their values.
-- SQLite cannot add a CHECK to a table, so the three tables are rebuilt, each row keeping its
-- rowid (the queue and the deliveries log order by it). The trigger that queues a call's event
-- names call_events, so it is dropped first and made again after.
DROP TRIGGER calls_queue_their_event;

CREATE TABLE call_events_new (
    call_id          TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'processing', 'sending', 'sent', 'skipped', 'failed')),
    note             TEXT,
    lease_owner      TEXT,
    lease_token      TEXT,
    lease_expires_at INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    not_before       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO call_events_new (rowid, call_id, state, note, lease_owner, lease_token, lease_expires_at, attempts, not_before)
SELECT rowid, call_id, state, note, lease_owner, lease_token, lease_expires_at, attempts, not_before
FROM call_events ORDER BY rowid;
DROP TABLE call_events;
ALTER TABLE call_events_new RENAME TO call_events;
CREATE INDEX call_events_queue ON call_events(state, not_before) WHERE state IN ('pending', 'processing', 'sending');
CREATE TRIGGER calls_queue_their_event AFTER INSERT ON calls
BEGIN INSERT INTO call_events (call_id) VALUES (NEW.id); END;

CREATE TABLE deliveries_new (
    id             TEXT PRIMARY KEY,
    call_id        TEXT REFERENCES calls(id) ON DELETE CASCADE,
    agent_id       TEXT NOT NULL,
    webhook_id     TEXT NOT NULL,
    webhook_name   TEXT NOT NULL,
    webhook_url    TEXT NOT NULL,
    config_version INTEGER,
    started_at     TEXT NOT NULL,
    duration_ms    INTEGER,
    outcome        TEXT NOT NULL CHECK (outcome IN ('sending', 'ok', 'http_status', 'timeout', 'connect',
                                                    'dns', 'tls', 'blocked', 'in_flight_limit', 'interrupted')),
    status_code    INTEGER,
    response_body  TEXT,
    error          TEXT,
    request_headers TEXT NOT NULL DEFAULT '[]',
    kind           TEXT NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'test', 'redelivery')),
    redelivery_of  TEXT,
    CHECK ((kind = 'test') = (call_id IS NULL)),
    CHECK ((kind = 'redelivery') = (redelivery_of IS NOT NULL))
);
INSERT INTO deliveries_new (rowid, id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version, started_at,
                            duration_ms, outcome, status_code, response_body, error, request_headers, kind, redelivery_of)
SELECT rowid, id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version, started_at,
       duration_ms, outcome, status_code, response_body, error, request_headers, kind, redelivery_of
FROM deliveries ORDER BY rowid;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_call ON deliveries(call_id);
CREATE INDEX deliveries_webhook ON deliveries(agent_id, webhook_id, started_at);
CREATE INDEX deliveries_agent ON deliveries(agent_id, started_at);
CREATE INDEX deliveries_under_way ON deliveries(outcome) WHERE outcome = 'sending';

CREATE TABLE notifications_new (
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    status  TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'skipped')),
    detail  TEXT,
    PRIMARY KEY (call_id, address)
);
INSERT INTO notifications_new (rowid, call_id, address, status, detail)
SELECT rowid, call_id, address, status, detail FROM notifications ORDER BY rowid;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;

-- The owner's safety net. A webhook may opt in to retries (`retry_policy`, kept with each
-- deployed version like its other settings); pausing is operational, not config (a table of
-- its own, read by draft and deployed configs alike); the deliveries log gains retry attempts
-- (`kind = 'retry'`, linked to the chain's first delivery), the `paused` outcome, and on a
-- chain's first delivery when its next attempt is due and why the chain ended.
ALTER TABLE webhooks ADD COLUMN retry_policy TEXT NOT NULL DEFAULT 'none' CHECK (retry_policy IN ('none', 'backoff'));
ALTER TABLE deployed_webhooks ADD COLUMN retry_policy TEXT NOT NULL DEFAULT 'none' CHECK (retry_policy IN ('none', 'backoff'));

DROP TRIGGER deployed_webhooks_are_immutable;
CREATE TRIGGER deployed_webhooks_are_immutable BEFORE UPDATE ON deployed_webhooks
WHEN NOT (
    NEW.key_id IS NOT OLD.key_id AND NEW.key_id IS NOT NULL
    AND NEW.agent_id IS OLD.agent_id AND NEW.version IS OLD.version AND NEW.webhook_id IS OLD.webhook_id
    AND NEW.position IS OLD.position AND NEW.name IS OLD.name AND NEW.url IS OLD.url
    AND NEW.standard_webhooks IS OLD.standard_webhooks AND NEW.retry_policy IS OLD.retry_policy
    AND (NEW.secret IS NULL) = (OLD.secret IS NULL)
    AND (SELECT group_concat(json_extract(value, '$.name'), char(10)) FROM json_each(NEW.headers))
        IS (SELECT group_concat(json_extract(value, '$.name'), char(10)) FROM json_each(OLD.headers))
    AND NEW.created_at IS OLD.created_at AND NEW.updated_at IS OLD.updated_at
)
BEGIN SELECT RAISE(ABORT, 'deployed versions are immutable'); END;

CREATE TABLE webhook_pauses (
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL,
    paused_at  TEXT NOT NULL,
    PRIMARY KEY (agent_id, webhook_id)
);

-- SQLite cannot change a CHECK, so the log is rebuilt once more, each row keeping its rowid.
CREATE TABLE deliveries_new (
    id              TEXT PRIMARY KEY,
    call_id         TEXT REFERENCES calls(id) ON DELETE CASCADE,
    agent_id        TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    webhook_name    TEXT NOT NULL,
    webhook_url     TEXT NOT NULL,
    config_version  INTEGER,
    started_at      TEXT NOT NULL,
    duration_ms     INTEGER,
    outcome         TEXT NOT NULL CHECK (outcome IN ('sending', 'ok', 'http_status', 'timeout', 'connect', 'dns', 'tls',
                                                     'blocked', 'in_flight_limit', 'interrupted', 'paused')),
    status_code     INTEGER,
    response_body   TEXT,
    error           TEXT,
    request_headers TEXT NOT NULL DEFAULT '[]',
    kind            TEXT NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'test', 'redelivery', 'retry')),
    redelivery_of   TEXT,
    attempt         INTEGER NOT NULL DEFAULT 1,
    retry_of        TEXT,
    next_attempt_at INTEGER,
    retry_token     TEXT,
    chain_end       TEXT,
    replay_id       TEXT,
    CHECK ((kind = 'test') = (call_id IS NULL)),
    CHECK ((kind = 'redelivery') = (redelivery_of IS NOT NULL)),
    CHECK ((kind = 'retry') = (retry_of IS NOT NULL))
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
CREATE INDEX deliveries_retry_due ON deliveries(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_retries ON deliveries(retry_of) WHERE retry_of IS NOT NULL;

-- Owner tools. Standard Webhooks signatures are an option of each webhook, kept with each
-- deployed version like the rest of its settings.
ALTER TABLE webhooks ADD COLUMN standard_webhooks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deployed_webhooks ADD COLUMN standard_webhooks INTEGER NOT NULL DEFAULT 0;

-- A reseal (the only change a deployed version allows) must not touch the new option either.
DROP TRIGGER deployed_webhooks_are_immutable;
CREATE TRIGGER deployed_webhooks_are_immutable BEFORE UPDATE ON deployed_webhooks
WHEN NOT (
    NEW.key_id IS NOT OLD.key_id AND NEW.key_id IS NOT NULL
    AND NEW.agent_id IS OLD.agent_id AND NEW.version IS OLD.version AND NEW.webhook_id IS OLD.webhook_id
    AND NEW.position IS OLD.position AND NEW.name IS OLD.name AND NEW.url IS OLD.url
    AND NEW.standard_webhooks IS OLD.standard_webhooks
    AND (NEW.secret IS NULL) = (OLD.secret IS NULL)
    AND (SELECT group_concat(json_extract(value, '$.name'), char(10)) FROM json_each(NEW.headers))
        IS (SELECT group_concat(json_extract(value, '$.name'), char(10)) FROM json_each(OLD.headers))
    AND NEW.created_at IS OLD.created_at AND NEW.updated_at IS OLD.updated_at
)
BEGIN SELECT RAISE(ABORT, 'deployed versions are immutable'); END;

-- The deliveries log also keeps test sends (no call: a sample body) and manual redeliveries of
-- a past delivery (linked to it). SQLite cannot drop a NOT NULL, so the table is rebuilt, rows
-- in their order.
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
    outcome        TEXT NOT NULL,
    status_code    INTEGER,
    response_body  TEXT,
    error          TEXT,
    request_headers TEXT NOT NULL DEFAULT '[]',
    kind           TEXT NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'test', 'redelivery')),
    redelivery_of  TEXT,
    CHECK ((kind = 'test') = (call_id IS NULL)),
    CHECK ((kind = 'redelivery') = (redelivery_of IS NOT NULL))
);
INSERT INTO deliveries_new (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version, started_at,
                            duration_ms, outcome, status_code, response_body, error, request_headers)
SELECT id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version, started_at,
       duration_ms, outcome, status_code, response_body, error, request_headers
FROM deliveries ORDER BY rowid;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_call ON deliveries(call_id);
CREATE INDEX deliveries_webhook ON deliveries(agent_id, webhook_id, started_at);
CREATE INDEX deliveries_agent ON deliveries(agent_id, started_at);
CREATE INDEX deliveries_under_way ON deliveries(outcome) WHERE outcome = 'sending';

-- Post-call processing settings (variables to extract, addresses to notify) are part of the
-- config like webhooks: the draft lives on the agent, each deployed version keeps a copy.
ALTER TABLE agents ADD COLUMN processing TEXT NOT NULL DEFAULT '{"variables":[],"notification_emails":[]}';
ALTER TABLE agent_versions ADD COLUMN processing TEXT NOT NULL DEFAULT '{"variables":[],"notification_emails":[]}';

-- A finished call. `body` is the Get Call API response once processing is done: the exact bytes
-- that the call_ended event sends.
CREATE TABLE calls (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    agent_version INTEGER,                    -- phone calls: the deployed version at arrival
    type          TEXT NOT NULL CHECK (type IN ('phone', 'web')),
    input         TEXT NOT NULL,              -- the call as received (JSON)
    body          TEXT,                       -- the Get Call JSON, set when processing is done
    -- pending: stored | processing: claimed by the dispatcher | sending: requests under way
    -- | sent | skipped
    event_state   TEXT NOT NULL DEFAULT 'pending',
    event_note    TEXT,
    received_at   TEXT NOT NULL
);
CREATE INDEX calls_agent ON calls(agent_id, received_at);
CREATE INDEX calls_event ON calls(event_state);

-- One row per webhook request. Custom header values are masked before they are stored here.
CREATE TABLE deliveries (
    id             TEXT PRIMARY KEY,
    call_id        TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    agent_id       TEXT NOT NULL,
    webhook_id     TEXT NOT NULL,
    webhook_name   TEXT NOT NULL,
    webhook_url    TEXT NOT NULL,
    config_version INTEGER,                   -- NULL for the draft (web calls)
    started_at     TEXT NOT NULL,
    duration_ms    INTEGER,
    -- sending (under way) | ok | http_status | timeout | connect | tls | dns | blocked | interrupted
    outcome        TEXT NOT NULL,
    status_code    INTEGER,
    response_body  TEXT,
    error          TEXT,
    request_headers TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX deliveries_call ON deliveries(call_id);
CREATE INDEX deliveries_webhook ON deliveries(agent_id, webhook_id, started_at);
CREATE INDEX deliveries_agent ON deliveries(agent_id, started_at);
CREATE INDEX deliveries_under_way ON deliveries(outcome) WHERE outcome = 'sending';

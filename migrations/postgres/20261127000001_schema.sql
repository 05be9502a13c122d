-- The PostgreSQL schema: the same tables and columns as the SQLite migrations, so the store runs
-- one set of queries on both. Timestamps are RFC 3339 text (they sort as text) and `rowid` is an
-- identity column standing in for SQLite's implicit one (insertion order, paging cursors).

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE api_keys (
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY,
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_keys_owner ON api_keys(owner_id);

CREATE TABLE agents (
    rowid          BIGINT GENERATED ALWAYS AS IDENTITY,
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    draft_revision BIGINT NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    processing     TEXT NOT NULL DEFAULT '{"variables":[],"notification_emails":[]}'
);
CREATE INDEX agents_owner ON agents(owner_id, created_at);

CREATE TABLE webhooks (
    rowid      BIGINT GENERATED ALWAYS AS IDENTITY,
    id         TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT,
    headers    TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhooks_agent ON webhooks(agent_id, rowid);

CREATE TABLE agent_versions (
    agent_id       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    draft_revision BIGINT NOT NULL,
    deployed_at    TEXT NOT NULL,
    processing     TEXT NOT NULL DEFAULT '{"variables":[],"notification_emails":[]}',
    PRIMARY KEY (agent_id, version)
);

CREATE TABLE deployed_webhooks (
    agent_id   TEXT NOT NULL,
    version    BIGINT NOT NULL,
    webhook_id TEXT NOT NULL,
    position   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT,
    headers    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (agent_id, version, webhook_id),
    FOREIGN KEY (agent_id, version) REFERENCES agent_versions(agent_id, version) ON DELETE CASCADE
);

CREATE FUNCTION voicy_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'deployed versions are immutable';
END $$;
CREATE TRIGGER agent_versions_are_immutable BEFORE UPDATE ON agent_versions
    FOR EACH ROW EXECUTE FUNCTION voicy_refuse_update();
CREATE TRIGGER deployed_webhooks_are_immutable BEFORE UPDATE ON deployed_webhooks
    FOR EACH ROW EXECUTE FUNCTION voicy_refuse_update();

CREATE TABLE calls (
    rowid            BIGINT GENERATED ALWAYS AS IDENTITY,
    id               TEXT PRIMARY KEY,
    owner_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent_id         TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    agent_version    BIGINT,
    type             TEXT NOT NULL CHECK (type IN ('phone', 'web')),
    input            TEXT NOT NULL,
    body             TEXT,
    received_at      TEXT NOT NULL
);
CREATE INDEX calls_agent ON calls(agent_id, rowid);

-- The queue: a call's event, in a narrow table of its own (its state changes several times per
-- call, and an update writes a new version of the whole row).
CREATE TABLE call_events (
    rowid            BIGINT GENERATED ALWAYS AS IDENTITY,
    call_id          TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    state            TEXT NOT NULL DEFAULT 'pending',
    note             TEXT,
    lease_owner      TEXT,                          -- the instance holding the lease
    lease_token      TEXT,                          -- the claim holding it (one per claim batch)
    lease_expires_at BIGINT,
    attempts         BIGINT NOT NULL DEFAULT 0,
    not_before       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX call_events_queue ON call_events(state, not_before) WHERE state IN ('pending', 'processing', 'sending');

-- Every stored call is queued in the same statement that stores it: atomically, and with one
-- round trip for the intake instead of a transaction of two.
CREATE FUNCTION voicy_queue_call_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO call_events (call_id) VALUES (NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER calls_queue_their_event AFTER INSERT ON calls FOR EACH ROW EXECUTE FUNCTION voicy_queue_call_event();

-- Other instances wake on a stored call at once instead of at their next sweep.
CREATE FUNCTION voicy_call_stored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('voicy_calls', '');
    RETURN NULL;
END $$;
CREATE TRIGGER calls_stored AFTER INSERT ON calls FOR EACH STATEMENT EXECUTE FUNCTION voicy_call_stored();

CREATE TABLE deliveries (
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY,
    id              TEXT PRIMARY KEY,
    call_id         TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    agent_id        TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    webhook_name    TEXT NOT NULL,
    webhook_url     TEXT NOT NULL,
    config_version  BIGINT,
    started_at      TEXT NOT NULL,
    duration_ms     BIGINT,
    outcome         TEXT NOT NULL,
    status_code     BIGINT,
    response_body   TEXT,
    error           TEXT,
    request_headers TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX deliveries_call ON deliveries(call_id);
CREATE INDEX deliveries_webhook ON deliveries(agent_id, webhook_id, started_at);
CREATE INDEX deliveries_agent ON deliveries(agent_id, started_at);
CREATE INDEX deliveries_under_way ON deliveries(call_id) WHERE outcome = 'sending';

CREATE TABLE notifications (
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    status  TEXT NOT NULL,
    detail  TEXT,
    PRIMARY KEY (call_id, address)
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

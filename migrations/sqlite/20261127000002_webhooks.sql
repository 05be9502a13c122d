-- The draft webhooks of an agent. `secret` and the values inside `headers` are never returned by
-- any API; `headers` is a JSON array of {"name","value"} in the order they are sent.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT,
    headers    TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhooks_agent ON webhooks(agent_id, created_at);

-- A deployed version: an immutable snapshot of the draft at the moment of Deploy.
CREATE TABLE agent_versions (
    agent_id       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    draft_revision INTEGER NOT NULL,         -- the draft revision this version was taken from
    deployed_at    TEXT NOT NULL,
    PRIMARY KEY (agent_id, version)
);

-- The webhooks of a deployed version, copied whole (secrets and header values included).
CREATE TABLE deployed_webhooks (
    agent_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    webhook_id TEXT NOT NULL,
    position   INTEGER NOT NULL,             -- the draft row order at deploy time
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT,
    headers    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (agent_id, version, webhook_id),
    FOREIGN KEY (agent_id, version) REFERENCES agent_versions(agent_id, version) ON DELETE CASCADE
);

-- Deployed versions never change: the database itself refuses.
CREATE TRIGGER agent_versions_are_immutable BEFORE UPDATE ON agent_versions
BEGIN SELECT RAISE(ABORT, 'deployed versions are immutable'); END;
CREATE TRIGGER deployed_webhooks_are_immutable BEFORE UPDATE ON deployed_webhooks
BEGIN SELECT RAISE(ABORT, 'deployed versions are immutable'); END;

-- Owners of agents. Emails are stored lower-cased by the application.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,          -- UUID
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,             -- argon2id PHC string
    created_at    TEXT NOT NULL
);

-- API keys are shown once; only the SHA-256 of the key is kept.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_keys_owner ON api_keys(owner_id);

-- An agent's draft config is its rows in `webhooks`; `draft_revision` counts draft edits so the
-- dashboard can tell whether the draft differs from the last deployed version.
CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    draft_revision INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);
CREATE INDEX agents_owner ON agents(owner_id, created_at);

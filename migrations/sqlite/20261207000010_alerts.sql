-- Failure alerts. Each webhook's run of failed deliveries (a retry chain counts once, when it
-- ends); at 5 an incident opens, one per webhook at a time whatever the number of instances (the
-- partial unique index), and the owner is mailed once; the first success closes it.
CREATE TABLE webhook_streaks (
    agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    webhook_id    TEXT NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0,
    failing_since TEXT,
    last_error    TEXT,
    PRIMARY KEY (agent_id, webhook_id)
);

CREATE INDEX webhook_streaks_failing ON webhook_streaks(failures) WHERE failures > 0;

CREATE TABLE alert_incidents (
    id               TEXT PRIMARY KEY,
    agent_id         TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    webhook_id       TEXT NOT NULL,
    webhook_name     TEXT NOT NULL,
    failing_since    TEXT NOT NULL,
    failures         INTEGER NOT NULL,
    last_error       TEXT,
    opened_at        TEXT NOT NULL,
    closed_at        TEXT,
    alert_mail       TEXT CHECK (alert_mail IN ('sending', 'sent', 'failed', 'skipped')),
    recovered_mail   TEXT CHECK (recovered_mail IN ('sending', 'sent', 'failed', 'skipped'))
);
CREATE UNIQUE INDEX alert_incidents_one_open ON alert_incidents(agent_id, webhook_id) WHERE closed_at IS NULL;
CREATE INDEX alert_incidents_agent ON alert_incidents(agent_id, opened_at);

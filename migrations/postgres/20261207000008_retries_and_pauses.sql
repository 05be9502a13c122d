-- The owner's safety net. A webhook may opt in to retries (`retry_policy`, kept with each
-- deployed version like its other settings); pausing is operational, not config (a table of
-- its own, read by draft and deployed configs alike); the deliveries log gains retry attempts
-- (`kind = 'retry'`, linked to the chain's first delivery), the `paused` outcome, and on a
-- chain's first delivery when its next attempt is due and why the chain ended.
ALTER TABLE webhooks ADD COLUMN retry_policy TEXT NOT NULL DEFAULT 'none' CHECK (retry_policy IN ('none', 'backoff'));
ALTER TABLE deployed_webhooks ADD COLUMN retry_policy TEXT NOT NULL DEFAULT 'none' CHECK (retry_policy IN ('none', 'backoff'));

CREATE OR REPLACE FUNCTION voicy_refuse_deployed_webhook_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key_id IS DISTINCT FROM OLD.key_id AND NEW.key_id IS NOT NULL
       AND (NEW.agent_id, NEW.version, NEW.webhook_id, NEW.position, NEW.name, NEW.url, NEW.standard_webhooks,
            NEW.retry_policy, NEW.secret IS NULL, NEW.created_at, NEW.updated_at, voicy_header_names(NEW.headers))
           IS NOT DISTINCT FROM
           (OLD.agent_id, OLD.version, OLD.webhook_id, OLD.position, OLD.name, OLD.url, OLD.standard_webhooks,
            OLD.retry_policy, OLD.secret IS NULL, OLD.created_at, OLD.updated_at, voicy_header_names(OLD.headers)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'deployed versions are immutable';
END $$;

CREATE TABLE webhook_pauses (
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL,
    paused_at  TEXT NOT NULL,
    PRIMARY KEY (agent_id, webhook_id)
);

ALTER TABLE deliveries ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1;
ALTER TABLE deliveries ADD COLUMN retry_of TEXT;
ALTER TABLE deliveries ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE deliveries ADD COLUMN retry_token TEXT;
ALTER TABLE deliveries ADD COLUMN chain_end TEXT;
ALTER TABLE deliveries ADD COLUMN replay_id TEXT;
-- Wider value lists, added NOT VALID and validated by the next migration (see state_checks).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_outcome_known;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_outcome_known
    CHECK (outcome IN ('sending', 'ok', 'http_status', 'timeout', 'connect', 'dns', 'tls',
                       'blocked', 'in_flight_limit', 'interrupted', 'paused')) NOT VALID;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_kind_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_kind_known
    CHECK (kind IN ('event', 'test', 'redelivery', 'retry')) NOT VALID;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_retry_linked CHECK ((kind = 'retry') = (retry_of IS NOT NULL)) NOT VALID;
CREATE INDEX deliveries_retry_due ON deliveries(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_retries ON deliveries(retry_of) WHERE retry_of IS NOT NULL;

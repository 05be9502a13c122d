-- Owner tools. Standard Webhooks signatures are an option of each webhook, kept with each
-- deployed version like the rest of its settings.
ALTER TABLE webhooks ADD COLUMN standard_webhooks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deployed_webhooks ADD COLUMN standard_webhooks BIGINT NOT NULL DEFAULT 0;

-- A reseal (the only change a deployed version allows) must not touch the new option either.
CREATE OR REPLACE FUNCTION voicy_refuse_deployed_webhook_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key_id IS DISTINCT FROM OLD.key_id AND NEW.key_id IS NOT NULL
       AND (NEW.agent_id, NEW.version, NEW.webhook_id, NEW.position, NEW.name, NEW.url, NEW.standard_webhooks,
            NEW.secret IS NULL, NEW.created_at, NEW.updated_at, voicy_header_names(NEW.headers))
           IS NOT DISTINCT FROM
           (OLD.agent_id, OLD.version, OLD.webhook_id, OLD.position, OLD.name, OLD.url, OLD.standard_webhooks,
            OLD.secret IS NULL, OLD.created_at, OLD.updated_at, voicy_header_names(OLD.headers)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'deployed versions are immutable';
END $$;

-- The deliveries log also keeps test sends (no call: a sample body) and manual redeliveries of
-- a past delivery (linked to it).
ALTER TABLE deliveries ALTER COLUMN call_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'test', 'redelivery'));
ALTER TABLE deliveries ADD COLUMN redelivery_of TEXT;
ALTER TABLE deliveries ADD CHECK ((kind = 'test') = (call_id IS NULL));
ALTER TABLE deliveries ADD CHECK ((kind = 'redelivery') = (redelivery_of IS NOT NULL));

-- A webhook's health reads its latest deliveries, the order settled by rowid (one batch of
-- deliveries shares a start time), along this index as SQLite reads along its own.
CREATE INDEX deliveries_webhook_recent ON deliveries(agent_id, webhook_id, started_at, rowid);
DROP INDEX deliveries_webhook;

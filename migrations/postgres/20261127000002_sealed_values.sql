-- Signing secrets and header values are sealed (encrypted) by the application before they are
-- written; `key_id` names the key that sealed a row's values. NULL marks a row written before
-- sealing existed: its values are plaintext until the next start seals them (`Store::reseal`).
ALTER TABLE webhooks ADD COLUMN key_id TEXT;
ALTER TABLE deployed_webhooks ADD COLUMN key_id TEXT;

-- Deployed versions stay immutable, except that their values may be sealed again under another
-- key (first sealing, key rotation): nothing else of the row may change, header names included.
CREATE FUNCTION voicy_header_names(headers TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(h->>'name', E'\n' ORDER BY n) FROM json_array_elements(headers::json) WITH ORDINALITY AS t(h, n)
$$;
CREATE FUNCTION voicy_refuse_deployed_webhook_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key_id IS DISTINCT FROM OLD.key_id AND NEW.key_id IS NOT NULL
       AND (NEW.agent_id, NEW.version, NEW.webhook_id, NEW.position, NEW.name, NEW.url,
            NEW.secret IS NULL, NEW.created_at, NEW.updated_at, voicy_header_names(NEW.headers))
           IS NOT DISTINCT FROM
           (OLD.agent_id, OLD.version, OLD.webhook_id, OLD.position, OLD.name, OLD.url,
            OLD.secret IS NULL, OLD.created_at, OLD.updated_at, voicy_header_names(OLD.headers)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'deployed versions are immutable';
END $$;
DROP TRIGGER deployed_webhooks_are_immutable ON deployed_webhooks;
CREATE TRIGGER deployed_webhooks_are_immutable BEFORE UPDATE ON deployed_webhooks
    FOR EACH ROW EXECUTE FUNCTION voicy_refuse_deployed_webhook_update();

-- Signing secrets and header values are sealed (encrypted) by the application before they are
-- written; `key_id` names the key that sealed a row's values. NULL marks a row written before
-- sealing existed: its values are plaintext until the next start seals them (`Store::reseal`).
ALTER TABLE webhooks ADD COLUMN key_id TEXT;
ALTER TABLE deployed_webhooks ADD COLUMN key_id TEXT;

-- Deployed versions stay immutable, except that their values may be sealed again under another
-- key (first sealing, key rotation): nothing else of the row may change, header names included.
DROP TRIGGER deployed_webhooks_are_immutable;
CREATE TRIGGER deployed_webhooks_are_immutable BEFORE UPDATE ON deployed_webhooks
WHEN NOT (
    NEW.key_id IS NOT OLD.key_id AND NEW.key_id IS NOT NULL
    AND NEW.agent_id IS OLD.agent_id AND NEW.version IS OLD.version AND NEW.webhook_id IS OLD.webhook_id
    AND NEW.position IS OLD.position AND NEW.name IS OLD.name AND NEW.url IS OLD.url
    AND (NEW.secret IS NULL) = (OLD.secret IS NULL)
    AND (SELECT group_concat(json_extract(value, '$.name'), char(10)) FROM json_each(NEW.headers))
        IS (SELECT group_concat(json_extract(value, '$.name'), char(10)) FROM json_each(OLD.headers))
    AND NEW.created_at IS OLD.created_at AND NEW.updated_at IS OLD.updated_at
)
BEGIN SELECT RAISE(ABORT, 'deployed versions are immutable'); END;

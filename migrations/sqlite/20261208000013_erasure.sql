-- Erasure of a call's personal data (the owner's request, or VOICY_RETENTION_DAYS): when it
-- happened. The retention pass finds the calls it has yet to erase through a partial index that
-- holds only those, so a pass does not walk the history it already erased.
ALTER TABLE calls ADD COLUMN erased_at TEXT;
CREATE INDEX calls_retention ON calls(received_at) WHERE erased_at IS NULL;

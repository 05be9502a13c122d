-- The states are enums in the code (voicy_model::states); the database takes only their values.
-- (calls.type and deliveries.kind have had theirs from the start.) Added NOT VALID: new rows are
-- checked at once, and the rows already there are checked by the next migration, in a
-- transaction of its own whose scan does not stop writes (adding a checked constraint holds a
-- lock that stops intake and dispatch on every instance until the whole log is scanned).
ALTER TABLE call_events ADD CONSTRAINT call_events_state_known
    CHECK (state IN ('pending', 'processing', 'sending', 'sent', 'skipped', 'failed')) NOT VALID;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_outcome_known
    CHECK (outcome IN ('sending', 'ok', 'http_status', 'timeout', 'connect',
                       'dns', 'tls', 'blocked', 'in_flight_limit', 'interrupted')) NOT VALID;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_known
    CHECK (status IN ('sending', 'sent', 'failed', 'skipped')) NOT VALID;

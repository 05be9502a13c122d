-- The states are enums in the code (voicy_model::states); the database takes only their values.
-- (calls.type and deliveries.kind have had theirs from the start.)
ALTER TABLE call_events ADD CONSTRAINT call_events_state_known
    CHECK (state IN ('pending', 'processing', 'sending', 'sent', 'skipped', 'failed'));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_outcome_known
    CHECK (outcome IN ('sending', 'ok', 'http_status', 'timeout', 'connect',
                       'dns', 'tls', 'blocked', 'in_flight_limit', 'interrupted'));
ALTER TABLE notifications ADD CONSTRAINT notifications_status_known
    CHECK (status IN ('sending', 'sent', 'failed', 'skipped'));

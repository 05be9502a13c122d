-- The rows written before the state checks, checked (under a lock that lets reads and writes go on).
ALTER TABLE call_events VALIDATE CONSTRAINT call_events_state_known;
ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_outcome_known;
ALTER TABLE notifications VALIDATE CONSTRAINT notifications_status_known;

-- The rows already logged, checked against the wider lists (under a lock that lets reads and writes go on).
ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_outcome_known;
ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_kind_known;
ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_retry_linked;

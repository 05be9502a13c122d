-- Requests counted per key and fixed time window, shared by every instance: sign-in and
-- sign-up throttles, an owner's web calls and test sends, an agent's notification e-mails.
CREATE TABLE rate_counters (
    key          TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_counters_expiry ON rate_counters(expires_at);

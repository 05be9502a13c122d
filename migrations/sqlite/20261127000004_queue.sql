-- The database is the dispatcher's queue. A call's event moves pending → processing → sending →
-- settled (sent | skipped | failed); an instance holds a call in processing or sending under a
-- lease (its id and an expiry it renews while it works), so another instance can take over the
-- work of one that died. Times are Unix milliseconds.
ALTER TABLE calls ADD COLUMN lease_owner TEXT;
ALTER TABLE calls ADD COLUMN lease_expires_at INTEGER;
ALTER TABLE calls ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;   -- retry backoff
DROP INDEX calls_event;
CREATE INDEX calls_queue ON calls(event_state, not_before) WHERE event_state IN ('pending', 'processing', 'sending');

-- Notification e-mails, recorded before they are sent: at most one per call and address, even
-- when a call is processed again after a crash.
CREATE TABLE notifications (
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    status  TEXT NOT NULL,                    -- sending | sent | failed | skipped
    detail  TEXT,
    PRIMARY KEY (call_id, address)
);

-- Dashboard sessions, written through the store like everything else (one writer).
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,                 -- the session record, JSON
    expires_at INTEGER NOT NULL               -- Unix seconds
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
DROP TABLE IF EXISTS tower_sessions;

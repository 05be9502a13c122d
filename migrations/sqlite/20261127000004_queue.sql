-- The database is the dispatcher's queue. A call's event moves pending → processing → sending →
-- settled (sent | skipped | failed); an instance holds a call in processing or sending under a
-- lease (its id and an expiry it renews while it works), so another instance can take over the
-- work of one that died. Times are Unix milliseconds.
--
-- The event lives in its own narrow table: its state changes several times per call, and an
-- update rewrites the whole row, which in `calls` carries the transcript and the body.
CREATE TABLE call_events (
    call_id          TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    state            TEXT NOT NULL DEFAULT 'pending',
    note             TEXT,
    lease_owner      TEXT,                          -- the instance holding the lease
    lease_token      TEXT,                          -- the claim holding it (one per claim batch)
    lease_expires_at INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    not_before       INTEGER NOT NULL DEFAULT 0     -- retry backoff
);
INSERT INTO call_events (call_id, state, note) SELECT id, event_state, event_note FROM calls ORDER BY rowid;
DROP INDEX calls_event;
ALTER TABLE calls DROP COLUMN event_state;
ALTER TABLE calls DROP COLUMN event_note;
CREATE INDEX call_events_queue ON call_events(state, not_before) WHERE state IN ('pending', 'processing', 'sending');
-- Every stored call is queued in the same statement that stores it: atomically, and with one
-- round trip for the intake instead of a transaction of two.
CREATE TRIGGER calls_queue_their_event AFTER INSERT ON calls
BEGIN INSERT INTO call_events (call_id) VALUES (NEW.id); END;

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

-- Intake writes each call's event itself, in the statement that stores the call, and the event
-- of a call that a worker of the storing instance takes at once is written already claimed
-- (`processing` under that instance's lease): no claim statement, no read back, no wake-up.
-- The trigger stays for whatever stores a call without its event (an instance of the previous
-- release during a rolling upgrade): it queues it `pending`, and yields to an event written
-- by the statement itself (AFTER triggers fire at the end of the statement).
CREATE OR REPLACE FUNCTION voicy_queue_call_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO call_events (call_id) VALUES (NEW.id) ON CONFLICT (call_id) DO NOTHING;
    RETURN NULL;
END $$;

-- Other instances are woken only for calls left pending: a call claimed at intake needs nobody.
DROP TRIGGER calls_stored ON calls;
DROP FUNCTION voicy_call_stored();
CREATE FUNCTION voicy_call_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM queued WHERE state = 'pending') THEN
        PERFORM pg_notify('voicy_calls', '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER call_events_pending AFTER INSERT ON call_events
    REFERENCING NEW TABLE AS queued FOR EACH STATEMENT EXECUTE FUNCTION voicy_call_pending();

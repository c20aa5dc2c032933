-- A webhook's test send is recorded like any delivery, so the dashboard's log shows it
-- and it can be replayed. Its sample event is kept in the outbox (deliveries reference
-- their event), marked as a test: written already published, so the relay never sends
-- it to the fan-out (no other webhook receives it), and left out of GET /api/v1/events.
ALTER TABLE event_outbox ADD COLUMN test boolean NOT NULL DEFAULT false;

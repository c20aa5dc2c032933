-- The X-Ray trace of the request that recorded each event, so the relay can hand it on
-- to the events queue (SQS's AWSTraceHeader) and one trace runs from the API call to the
-- webhook delivery although the outbox sits between them. NULL outside Lambda.
ALTER TABLE event_outbox ADD COLUMN trace_header text
    CHECK (trace_header IS NULL OR length(trace_header) <= 256);

-- The contact search `q` (a substring of email, names or company) is served by a
-- trigram index instead of a scan of the tenant's contacts. pg_trgm is a trusted
-- extension (PostgreSQL 13+), available on RDS.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX contacts_search ON contacts USING gin (
    (email || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' ||
     coalesce(company, '')) gin_trgm_ops
);

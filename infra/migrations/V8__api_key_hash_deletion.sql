-- A key that can no longer be used (revoked, or past a roll's grace period) leaves
-- nothing behind: its bcrypt hash is deleted from the secrets port, and this stamp
-- records it. Keys still to sweep are found through the partial index.
ALTER TABLE api_keys ADD COLUMN hash_deleted_at timestamptz;
CREATE INDEX api_keys_hash_to_delete ON api_keys (id)
    WHERE hash_deleted_at IS NULL AND (revoked_at IS NOT NULL OR expires_at IS NOT NULL);

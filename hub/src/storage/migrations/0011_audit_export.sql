-- Audit export: how far the audit trail has been sent to each log server ([audit_export]).
-- `last_seq` is the audit chain's link number (chain_links.seq for chain 'audit') of the last entry
-- the server has been sent; links are numbered in commit order, so every entry after it is unsent.
CREATE TABLE audit_export_cursor (
    -- The log server, as configured (host:port).
    target TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL DEFAULT 0,
    sent_at_ms BIGINT NOT NULL DEFAULT 0,
    -- The last failure to reach or write to the server ('' after a success).
    error TEXT NOT NULL DEFAULT '',
    error_at_ms BIGINT NOT NULL DEFAULT 0
);

-- Tamper evidence. The audit trail, report versions and the savings ledger are append-only, and
-- each forms a keyed hash chain: one link per row, written in the row's transaction by the hub
-- (storage/chain.rs), with a key kept outside the database. The triggers that refuse UPDATE and
-- DELETE on those tables follow, per dialect.

-- One link per chained row. `mac` = HMAC(key, chain, seq, row id, row_mac, previous link's mac).
CREATE TABLE chain_links (
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    row_id BIGINT NOT NULL,
    -- HMAC of the row's columns; `column_tags` a short HMAC per column, to name what changed.
    row_mac TEXT NOT NULL,
    column_tags TEXT NOT NULL,
    mac TEXT NOT NULL,
    PRIMARY KEY (chain, seq),
    UNIQUE (chain, row_id)
);

-- Each chain's last link; appenders take this row first, which orders them. Rows that existed
-- before the chains (id up to `backfill_to`) are linked once, in id order, at the next start.
CREATE TABLE chain_heads (
    chain TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    mac TEXT NOT NULL,
    backfill_to BIGINT NOT NULL,
    backfilled BIGINT NOT NULL DEFAULT 0
);
INSERT INTO chain_heads (chain, seq, mac, backfill_to)
    SELECT 'audit', 0, '', COALESCE(MAX(id), 0) FROM audit;
INSERT INTO chain_heads (chain, seq, mac, backfill_to)
    SELECT 'reports', 0, '', COALESCE(MAX(id), 0) FROM reports;
INSERT INTO chain_heads (chain, seq, mac, backfill_to)
    SELECT 'ledger', 0, '', COALESCE(MAX(id), 0) FROM recognition_ledger;

-- What the index knows about itself: the fingerprints of the keys it was written with, so that a
-- hub started with another key refuses to start instead of silently mismatching.
CREATE TABLE hub_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
